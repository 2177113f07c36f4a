// dynamic_threshold.hpp: DySign's dynamic threshold unit (twin of hw_templates/rtl/dynamic_threshold.sv).
//
// Per frame of H*W pixels and C channels (golden model: flow/ops/dynamic_threshold.py), with
// shift_round(x, s) = round(x * 2^s), ties to even, and clip to [lo, hi]:
//   S[c]       = sum_{h,w} acc[h,w,c]
//   q[c]       = clip(shift_round(S[c], STAT_SHIFT), Q_MIN, Q_MAX)
//   r[j]       = clip(shift_round(max(sum_c q[c] * W1[c,j], 0), R_SHIFT), R_MIN, R_MAX)
//   u[c]       = clip(shift_round(sum_j r[j] * W2[j,c], U_SHIFT), U_MIN, U_MAX),  code[c] = u[c] - U_MIN
//   out[h,w,c] = (acc[h,w,c] >= T[c, code[c]]) xor NEG[c]   (== DIR[c] * acc >= THR[c, code[c]])
//
// Layout (same as the RTL): NHWC, an input beat holds PE signed ACC_BITS lanes, lane p = channel g*PE + p
// of one pixel, G = C/PE beats per pixel, F = H*W*G beats per frame; an output beat holds PE bits.
// Memories (flow.packing.dynamic_threshold_memories), lane p at the LSB:
//   w1 : HID*G words of PE*W_BITS;        address j*G + g, lane p = W1[g*PE + p, j] (signed)
//   w2 : HID*G words of PE*W_BITS;        address j*G + g, lane p = W2[j, g*PE + p] (signed)
//   thr: G*CODES words of PE*(ACC_BITS+1); address g*CODES + k, lane p = T[g*PE + p, k] (signed, the
//        direction already folded in: T = THR for DIR = +1, 1 - THR for DIR = -1)
//   dir: G words of PE bits;               address g, bit p = NEG[g*PE + p] = (DIR[g*PE + p] < 0)
//
// Schedule (one frame per call): two processes under DATAFLOW, joined by a frame-deep FIFO (the RTL's
// double buffer) and a FIFO of codes. `dynamic_threshold_codes` streams the frame on while it sums the
// channels (F cycles), then runs the hidden layer (HID*G) and the output layer (G*HID) and sends the G code
// words; `dynamic_threshold_apply` fetches the thresholds of those codes (C cycles: one memory read each)
// and re-streams the frame (F). With the processes overlapping across frames, a frame takes about
// max(F + 2*HID*G, C + F) cycles (the RTL: max(F, (HID+1)*G + 1)).
//
// Every config constant may be declared `int` or (when non-negative) `unsigned`; the traits convert them to
// int before any arithmetic, so negative shifts and minima never meet unsigned arithmetic.
#ifndef SIGNFLOW_DYNAMIC_THRESHOLD_HPP
#define SIGNFLOW_DYNAMIC_THRESHOLD_HPP

#include "signflow_common.hpp"

namespace signflow {

struct dynamic_threshold_config {
    static const int H = 3;            // frame rows; >= 1
    static const int W = 3;            // frame columns; >= 1
    static const int C = 4;            // channels; a multiple of PE
    static const int PE = 2;           // channels per beat; divides C
    static const int ACC_BITS = 8;     // bits of a signed input accumulator
    static const int HID = 2;          // hidden width of the MLP; >= 1
    static const int W_BITS = 4;       // bits of the signed MLP weights W1, W2
    static const int SUM_BITS = 12;    // bits of the signed channel sum S; >= ACC_BITS + clog2(H*W)
    static const int STAT_SHIFT = -4;  // q = clip(shift_round(S, STAT_SHIFT), Q_MIN, Q_MAX)
    static const int Q_MIN = -128;
    static const int Q_MAX = 127;
    static const int R_SHIFT = -3;     // r = clip(shift_round(relu(q @ W1), R_SHIFT), R_MIN, R_MAX)
    static const int R_MIN = 0;
    static const int R_MAX = 15;
    static const int U_SHIFT = -2;     // u = clip(shift_round(r @ W2, U_SHIFT), U_MIN, U_MAX)
    static const int U_MIN = -8;       // code = u - U_MIN picks one of CODES = U_MAX - U_MIN + 1 thresholds
    static const int U_MAX = 7;
};

// smallest n such that [lo, hi] fits n signed bits
constexpr int signed_bits(long long lo, long long hi, int n = 1) {
    return (lo >= -(1LL << (n - 1)) && hi < (1LL << (n - 1))) ? n : signed_bits(lo, hi, n + 1);
}

// clip(shift_round(x, SHIFT), LO, HI) as OUT_BITS signed bits (the RTL's dynamic_threshold_requant).
// With k = -SHIFT > 0: floor = x >> k (arithmetic), rest = x - (floor << k) in [0, 2^k); round up when
// rest is above half, or exactly half with an odd floor (ties to even).
template <int OUT_BITS, int SHIFT, int LO, int HI, int IN_BITS>
ap_int<OUT_BITS> shift_round_clip(const ap_int<IN_BITS> &x) {
#pragma HLS INLINE
    constexpr int LEFT = SHIFT > 0 ? SHIFT : 0;
    constexpr int RIGHT = SHIFT < 0 ? -SHIFT : 0;
    constexpr int HALF = RIGHT > 0 ? RIGHT - 1 : 0;  // log2 of half a step; only used when RIGHT > 0
    // holds x << LEFT exactly, and every shift below stays narrower than the word
    typedef ap_int<IN_BITS + LEFT + RIGHT + 2> wide_t;
    wide_t v = x;
    if (RIGHT == 0) {
        v = v << LEFT;
    } else {
        const wide_t floor_v = v >> RIGHT;
        const wide_t rest = v - (floor_v << RIGHT);
        const wide_t half = wide_t(1) << HALF;
        const bool up = rest > half || (rest == half && floor_v[0]);
        v = floor_v + (up ? 1 : 0);
    }
    if (v < LO) return ap_int<OUT_BITS>(LO);
    if (v > HI) return ap_int<OUT_BITS>(HI);
    return ap_int<OUT_BITS>(v);
}

template <class CFG>
struct dynamic_threshold_traits {
    static const int PE = CFG::PE;
    static const int HID = CFG::HID;
    static const int ACC_BITS = CFG::ACC_BITS;
    static const int W_BITS = CFG::W_BITS;
    static const int G = int(CFG::C) / PE;                            // beats (channel groups) per pixel
    static const int F = int(CFG::H) * int(CFG::W) * G;               // beats per frame
    static const int CODES = int(CFG::U_MAX) - int(CFG::U_MIN) + 1;   // thresholds per channel
    static const int QB = signed_bits(int(CFG::Q_MIN), int(CFG::Q_MAX));  // bits of q
    static const int RB = signed_bits(int(CFG::R_MIN), int(CFG::R_MAX));  // bits of r
    static const int UB = signed_bits(int(CFG::U_MIN), int(CFG::U_MAX));  // bits of u
    static const int HB = QB + W_BITS + int(clog2(CFG::C)) + 1;       // bits of q @ W1 (exact)
    static const int VB = RB + W_BITS + int(clog2(CFG::HID)) + 1;     // bits of r @ W2 (exact)
    static const int TB = ACC_BITS + 1;                               // bits of a threshold T
    static const int KB = max_u(1, clog2(CODES));                     // bits of a code
    typedef ap_uint<PE * ACC_BITS> in_t;
    typedef ap_uint<PE> out_t;
    typedef ap_uint<PE * W_BITS> weight_t;
    typedef ap_uint<PE * TB> threshold_t;
    typedef ap_uint<PE> dir_t;
    typedef ap_uint<PE * KB> codes_t;
    typedef ap_int<CFG::SUM_BITS> sum_t;
};

// Frame in, frame out unchanged, and the frame's G code words (PE codes of KB bits each, lane p at the LSB).
template <class CFG>
void dynamic_threshold_codes(hls::stream<typename dynamic_threshold_traits<CFG>::in_t> &in,
                             hls::stream<typename dynamic_threshold_traits<CFG>::in_t> &frame,
                             hls::stream<typename dynamic_threshold_traits<CFG>::codes_t> &codes_out,
                             const typename dynamic_threshold_traits<CFG>::weight_t
                                 w1[dynamic_threshold_traits<CFG>::HID * dynamic_threshold_traits<CFG>::G],
                             const typename dynamic_threshold_traits<CFG>::weight_t
                                 w2[dynamic_threshold_traits<CFG>::HID * dynamic_threshold_traits<CFG>::G]) {
    typedef dynamic_threshold_traits<CFG> T;
    const int PE = T::PE, G = T::G, HID = T::HID, ACC_BITS = T::ACC_BITS, W_BITS = T::W_BITS;
    // Per-channel state as [lane][group]: lanes are partitioned so each cycle touches PE banks at address g.
    typename T::sum_t sums[PE][G];
    ap_int<T::QB> q[PE][G];
    ap_int<T::RB> r[HID];
#pragma HLS ARRAY_PARTITION variable = sums complete dim = 1
#pragma HLS ARRAY_PARTITION variable = q complete dim = 1

    // 1. fill: pass the frame on, add each beat to its channels' sums; the last pixel's sums give q.
    // The sums[p][g] read-modify-write recurs every G beats. G == 1 is a plain register accumulator; for
    // G > 1, if the tool cannot prove that distance it assumes distance 1 and may schedule the loop at II=2.
    int g = 0, pixel = 0;
fill_loop:
    for (int b = 0; b < T::F; b++) {
#pragma HLS PIPELINE II = 1
        const typename T::in_t x = in.read();
        frame.write(x);
        for (int p = 0; p < PE; p++) {
#pragma HLS UNROLL
            const ap_int<ACC_BITS> a = lane<ACC_BITS>(x, p);
            const typename T::sum_t s = (pixel == 0 ? typename T::sum_t(0) : sums[p][g]) + a;
            sums[p][g] = s;
            if (pixel == int(CFG::H) * int(CFG::W) - 1)
                q[p][g] = shift_round_clip<T::QB, CFG::STAT_SHIFT, CFG::Q_MIN, CFG::Q_MAX>(s);
        }
        if (++g == G) {
            g = 0;
            pixel++;
        }
    }

    // 2. hidden layer, one W1 word (PE products) per cycle: hidden[j] = sum over the G groups, then r[j].
    ap_int<T::HB> hidden = 0;
    int j = 0;
    g = 0;
hidden_loop:
    for (int k = 0; k < HID * G; k++) {  // k = j*G + g, the W1 address
#pragma HLS PIPELINE II = 1
        const typename T::weight_t w = w1[k];
        ap_int<T::HB> h = g == 0 ? ap_int<T::HB>(0) : hidden;
        for (int p = 0; p < PE; p++) {
#pragma HLS UNROLL
            const ap_int<W_BITS> wp = lane<W_BITS>(w, p);
            h += q[p][g] * wp;
        }
        hidden = h;
        if (g == G - 1) r[j] = shift_round_clip<T::RB, CFG::R_SHIFT, CFG::R_MIN, CFG::R_MAX>(h < 0 ? ap_int<T::HB>(0) : h);
        if (++g == G) {
            g = 0;
            j++;
        }
    }

    // 3. output layer, group by group so each lane accumulates in a register: v = r @ W2, then the code.
    ap_int<T::VB> v[PE];
#pragma HLS ARRAY_PARTITION variable = v complete dim = 1
    typename T::codes_t code_word = 0;
    j = 0;
    g = 0;
output_loop:
    for (int k = 0; k < G * HID; k++) {
#pragma HLS PIPELINE II = 1
        const typename T::weight_t w = w2[j * G + g];
        for (int p = 0; p < PE; p++) {
#pragma HLS UNROLL
            const ap_int<W_BITS> wp = lane<W_BITS>(w, p);
            const ap_int<T::VB> sum = (j == 0 ? ap_int<T::VB>(0) : v[p]) + r[j] * wp;
            v[p] = sum;
            if (j == HID - 1) {
                const ap_int<T::UB> u = shift_round_clip<T::UB, CFG::U_SHIFT, CFG::U_MIN, CFG::U_MAX>(sum);
                code_word.range(p * T::KB + T::KB - 1, p * T::KB) = ap_uint<T::KB>(u - int(CFG::U_MIN));
            }
        }
        if (j == HID - 1) codes_out.write(code_word);
        if (++j == HID) {
            j = 0;
            g++;
        }
    }
}

// The frame's codes and the frame in, one bit per channel out: (acc >= T[c, code]) xor NEG[c].
template <class CFG>
void dynamic_threshold_apply(hls::stream<typename dynamic_threshold_traits<CFG>::in_t> &frame,
                             hls::stream<typename dynamic_threshold_traits<CFG>::codes_t> &codes_in,
                             hls::stream<typename dynamic_threshold_traits<CFG>::out_t> &out,
                             const typename dynamic_threshold_traits<CFG>::threshold_t
                                 thr[dynamic_threshold_traits<CFG>::G * dynamic_threshold_traits<CFG>::CODES],
                             const typename dynamic_threshold_traits<CFG>::dir_t dir[dynamic_threshold_traits<CFG>::G]) {
    typedef dynamic_threshold_traits<CFG> T;
    const int PE = T::PE, G = T::G, ACC_BITS = T::ACC_BITS;
    ap_int<T::TB> sel[PE][G];  // the frame's threshold of each channel
#pragma HLS ARRAY_PARTITION variable = sel complete dim = 1

    // 4. threshold selection: each lane of a group has its own code, i.e. its own thr address, so the
    // thresholds are fetched one channel per cycle (one memory port) rather than PE per beat in the drain.
    int g = 0, p_sel = 0;
    typename T::codes_t code_word = 0;
select_loop:
    for (int k = 0; k < G * PE; k++) {  // k = g*PE + p
#pragma HLS PIPELINE II = 1
        if (p_sel == 0) code_word = codes_in.read();
        const int code = code_word.range(p_sel * T::KB + T::KB - 1, p_sel * T::KB);
        const typename T::threshold_t t = thr[g * T::CODES + code];
        sel[p_sel][g] = lane<T::TB>(t, p_sel);
        if (++p_sel == PE) {
            p_sel = 0;
            g++;
        }
    }

    // 5. drain: re-stream the buffered frame, one beat per cycle.
    g = 0;
drain_loop:
    for (int b = 0; b < T::F; b++) {
#pragma HLS PIPELINE II = 1
        const typename T::in_t x = frame.read();
        const typename T::dir_t neg = dir[g];
        typename T::out_t y = 0;
        for (int p = 0; p < PE; p++) {
#pragma HLS UNROLL
            const ap_int<ACC_BITS> a = lane<ACC_BITS>(x, p);
            y[p] = (a >= sel[p][g]) != bool(neg[p]);
        }
        out.write(y);
        if (++g == G) g = 0;
    }
}

template <class CFG>
void dynamic_threshold(hls::stream<typename dynamic_threshold_traits<CFG>::in_t> &in,
                       hls::stream<typename dynamic_threshold_traits<CFG>::out_t> &out,
                       const typename dynamic_threshold_traits<CFG>::weight_t
                           w1[dynamic_threshold_traits<CFG>::HID * dynamic_threshold_traits<CFG>::G],
                       const typename dynamic_threshold_traits<CFG>::weight_t
                           w2[dynamic_threshold_traits<CFG>::HID * dynamic_threshold_traits<CFG>::G],
                       const typename dynamic_threshold_traits<CFG>::threshold_t
                           thr[dynamic_threshold_traits<CFG>::G * dynamic_threshold_traits<CFG>::CODES],
                       const typename dynamic_threshold_traits<CFG>::dir_t dir[dynamic_threshold_traits<CFG>::G]) {
#pragma HLS DATAFLOW
    typedef dynamic_threshold_traits<CFG> T;
    const int PE = T::PE, G = T::G, HID = T::HID, ACC_BITS = T::ACC_BITS;
    static_assert(G * PE == int(CFG::C) && G >= 1, "PE must divide C");
    static_assert(T::F >= 1 && HID >= 1, "H, W, HID must be >= 1");
    static_assert(int(CFG::SUM_BITS) >= ACC_BITS + int(clog2(int(CFG::H) * int(CFG::W))), "SUM_BITS too small");
    static_assert(T::CODES >= 1, "U_MIN must be <= U_MAX");
    static_assert(int(CFG::Q_MIN) <= int(CFG::Q_MAX) && int(CFG::R_MIN) <= int(CFG::R_MAX), "empty clip range");
    // no output bit can leave before the frame's last sum: the frame waits in a FIFO (the double buffer)
    // depths as template arguments: Vitis HLS wants a literal after "depth =" in a pragma
    hls::stream<typename T::in_t, T::F> frame("frame");
    hls::stream<typename T::codes_t, T::G> codes("codes");
    dynamic_threshold_codes<CFG>(in, frame, codes, w1, w2);
    dynamic_threshold_apply<CFG>(frame, codes, out, thr, dir);
}

}  // namespace signflow

#endif
