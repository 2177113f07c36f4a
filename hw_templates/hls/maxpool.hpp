// maxpool.hpp: max-pool of an NHWC stream, of bits (BITS = 1: the max of bits is their OR) or of signed
// two's complement integers (BITS > 1; e.g. accumulators before a DySign unit).
//
// out[oh, ow, c] = max_{i < KH, j < KW} in[oh*STRIDE_H + i, ow*STRIDE_W + j, c], floor mode, no padding:
// OH = (IFM_H - KH) / STRIDE_H + 1, OW = (IFM_W - KW) / STRIDE_W + 1 (flow/ops/maxpool.py, `maxpool_nhwc`).
//
// Layout (same as hw_templates/rtl/maxpool.sv): a beat holds PE elements of BITS bits, channels
// cf*PE .. cf*PE+PE-1 of one pixel (lane 0 at the LSB), C/PE beats per pixel, pixels row-major; output beats
// likewise over the OH x OW pooled pixels. Rows and columns past the last full window are read and discarded.
//
// Schedule (one frame per call), as the RTL core: one input beat per cycle, no line buffer of inputs. Each
// beat is folded (lane_max) into the NC = ceil(KW/STRIDE_W) column windows it belongs to (hacc); a beat that
// closes a column window folds that horizontal result into the NR = ceil(KH/STRIDE_H) rows of partial
// windows (part), and a beat that also closes the window's last row writes the pooled beat. A frame takes
// IFM_H*IFM_W*C/PE cycles.
#ifndef SIGNFLOW_MAXPOOL_HPP
#define SIGNFLOW_MAXPOOL_HPP

#include "signflow_common.hpp"

namespace signflow {

struct maxpool_config {
    static const unsigned IFM_H = 4;     // input rows; >= KH
    static const unsigned IFM_W = 4;     // input columns; >= KW
    static const unsigned C = 8;         // channels; a multiple of PE
    static const unsigned KH = 2;        // window rows
    static const unsigned KW = 2;        // window columns
    static const unsigned STRIDE_H = 2;  // row stride
    static const unsigned STRIDE_W = 2;  // column stride
    static const unsigned PE = 8;        // channels per beat; divides C
    static const unsigned BITS = 1;      // bits per element; 1: bits (0/1), > 1: signed integers
};

template <class CFG>
struct maxpool_traits {
    static const unsigned OH = (CFG::IFM_H - CFG::KH) / CFG::STRIDE_H + 1;
    static const unsigned OW = (CFG::IFM_W - CFG::KW) / CFG::STRIDE_W + 1;
    static const unsigned CF = CFG::C / CFG::PE;
    static const unsigned NC = (CFG::KW + CFG::STRIDE_W - 1) / CFG::STRIDE_W;  // column windows per pixel
    static const unsigned NR = (CFG::KH + CFG::STRIDE_H - 1) / CFG::STRIDE_H;  // row windows per pixel
    typedef ap_uint<CFG::PE * CFG::BITS> word_t;
};

// Lane-wise max of two beats of PE lanes: one-bit lanes are bits (unsigned, so the max is their OR), wider
// lanes two's complement integers.
template <unsigned PE, unsigned BITS>
ap_uint<PE * BITS> lane_max(const ap_uint<PE * BITS> &a, const ap_uint<PE * BITS> &b) {
#pragma HLS INLINE
    ap_uint<PE * BITS> m = 0;
    for (unsigned p = 0; p < PE; p++) {
#pragma HLS UNROLL
        const ap_uint<BITS> x = lane<BITS>(a, p), y = lane<BITS>(b, p);
        // one bit wider: bits zero-extended, integers sign-extended
        const ap_int<BITS + 1> xs = BITS > 1 ? ap_int<BITS + 1>(ap_int<BITS>(x)) : ap_int<BITS + 1>(x);
        const ap_int<BITS + 1> ys = BITS > 1 ? ap_int<BITS + 1>(ap_int<BITS>(y)) : ap_int<BITS + 1>(y);
        m.range(p * BITS + BITS - 1, p * BITS) = xs > ys ? x : y;
    }
    return m;
}

template <class CFG>
void maxpool(hls::stream<typename maxpool_traits<CFG>::word_t> &in,
             hls::stream<typename maxpool_traits<CFG>::word_t> &out) {
    typedef maxpool_traits<CFG> T;
    typedef typename T::word_t word_t;
    static_assert(CFG::C % CFG::PE == 0, "PE must divide C");
    static_assert(CFG::IFM_H >= CFG::KH && CFG::IFM_W >= CFG::KW, "window larger than the input");
    static_assert(CFG::BITS >= 1, "BITS >= 1");

    word_t hacc[T::NC][T::CF];         // max of the current row's pixels in each open column window
    word_t part[T::NR][T::OW * T::CF];  // max of the finished rows of each open window
#pragma HLS ARRAY_PARTITION variable = hacc complete dim = 1
#pragma HLS ARRAY_PARTITION variable = part complete dim = 1

    unsigned r = 0, w = 0, cf = 0;  // position of the current input beat
beats_loop:
    for (unsigned beat = 0; beat < CFG::IFM_H * CFG::IFM_W * T::CF; beat++) {
#pragma HLS PIPELINE II = 1
        const word_t x = in.read();
    column_loop:
        for (unsigned t = 0; t < T::NC; t++) {
#pragma HLS UNROLL
            const int ow = int(w / CFG::STRIDE_W) - int(t);
            if (ow < 0 || ow >= int(T::OW) || w >= ow * CFG::STRIDE_W + CFG::KW) continue;
            const word_t h =
                w == ow * CFG::STRIDE_W ? x : lane_max<CFG::PE, CFG::BITS>(hacc[ow % T::NC][cf], x);
            hacc[ow % T::NC][cf] = h;
            if (w != ow * CFG::STRIDE_W + CFG::KW - 1) continue;  // the column window is still open
        row_loop:
            for (unsigned u = 0; u < T::NR; u++) {
#pragma HLS UNROLL
                const int oh = int(r / CFG::STRIDE_H) - int(u);
                if (oh < 0 || oh >= int(T::OH) || r >= oh * CFG::STRIDE_H + CFG::KH) continue;
                word_t &partial = part[oh % T::NR][ow * T::CF + cf];
                const word_t v = r == oh * CFG::STRIDE_H ? h : lane_max<CFG::PE, CFG::BITS>(partial, h);
                if (r == oh * CFG::STRIDE_H + CFG::KH - 1) out.write(v);  // the window is complete
                else partial = v;
            }
        }
        if (++cf == T::CF) {
            cf = 0;
            if (++w == CFG::IFM_W) {
                w = 0;
                r++;
            }
        }
    }
}

}  // namespace signflow

#endif
