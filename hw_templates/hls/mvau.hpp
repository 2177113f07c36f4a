// mvau.hpp: folded XNOR-popcount matrix-vector unit (MVAU) with per-phase thresholds.
//
// Formula, per output pixel, for channel c < MH over inputs k < MW with weight bits w[k, c]:
//   INPUT_MODE 0 (binary bits x):    pop = sum_k xnor(x[k], w[k, c]),   acc = 2 * pop - MW
//   INPUT_MODE 1 (signed IN_BITS x): acc = sum_k (w[k, c] ? x[k] : -x[k])
//   OUTPUT_MODE 0 (threshold):       y[c] = (binary ? pop : acc) >= T[c, phase]   (T signed ACC_BITS)
//   OUTPUT_MODE 1 (acc):             y[c] = acc                                  (signed ACC_BITS)
//   phase of output pixel (oh, ow) = (oh % PERIOD_H) * PERIOD_W + (ow % PERIOD_W); pixels row-major.
//   Before a POOL_H x POOL_W OR pool, that of the pooled pixel:
//   ((oh / POOL_H) % PERIOD_H) * PERIOD_W + ((ow / POOL_W) % PERIOD_W).
// Golden model: flow/ops/mvau.py `mvau`.
//
// Layout, with NF = MH / PE, SF = MW / SIMD and P = PERIOD_H * PERIOD_W (streams as hw_templates/rtl/mvau.sv):
//   in:         SF beats per pixel of SIMD*IN_BITS bits; lane s of beat sf = x[sf*SIMD + s].
//   out:        NF beats per pixel of PE bits (threshold) or PE*ACC_BITS bits (acc); lane p = channel nf*PE + p.
//   weights:    [PE][NF*SF] words of SIMD bits, weights[p][nf*SF + sf] bit s = w[sf*SIMD + s, nf*PE + p]
//               (lane p of flow.packing.mvau_weight_words; one ROM per PE keeps words within ap_int's limit).
//   thresholds: [PE][NF*P] signed ACC_BITS values, thresholds[p][nf*P + phase] = T[nf*PE + p, phase]
//               (lane p of flow.packing.mvau_threshold_words); read in threshold mode only.
//
// Schedule: one (nf, sf) step per cycle, OUT_H*OUT_W*NF*SF cycles per call (one frame). The SF input beats
// of a pixel are read during nf = 0 and kept in a buffer for nf = 1..NF-1.
#ifndef SIGNFLOW_MVAU_HPP
#define SIGNFLOW_MVAU_HPP

#include "signflow_common.hpp"

namespace signflow {

// Default configuration; a layer derives from it and overrides constants.
struct mvau_config {
    static const unsigned MW = 16;          // inputs per output channel (fan-in); a multiple of SIMD
    static const unsigned MH = 8;           // output channels; a multiple of PE
    static const unsigned PE = 2;           // output channels computed in parallel; divides MH
    static const unsigned SIMD = 4;         // inputs per cycle and PE; divides MW
    static const unsigned INPUT_MODE = 0;   // 0: binary input bits (XNOR-popcount); 1: signed integers
    static const unsigned IN_BITS = 1;      // bits per input element; 1 in binary mode
    static const unsigned OUTPUT_MODE = 0;  // 0: one threshold bit per channel; 1: the signed accumulator
    static const unsigned ACC_BITS = 8;     // bits of the signed accumulator output / threshold values
    static const unsigned OUT_H = 1;        // output pixel rows per frame (1 when fully connected)
    static const unsigned OUT_W = 1;        // output pixel columns per frame (1 when fully connected)
    static const unsigned PERIOD_H = 1;     // threshold period in output rows (DeSign)
    static const unsigned PERIOD_W = 1;     // threshold period in output columns (DeSign)
    static const unsigned POOL_H = 1;       // rows of the OR pool after the unit (phase per pooled pixel)
    static const unsigned POOL_W = 1;       // columns of the OR pool after the unit
};

// Derived constants and stream / memory word types of an MVAU configuration.
template <class CFG>
struct mvau_traits {
    static const unsigned NF = CFG::MH / CFG::PE;
    static const unsigned SF = CFG::MW / CFG::SIMD;
    static const unsigned P = CFG::PERIOD_H * CFG::PERIOD_W;
    static const unsigned IN_WIDTH = CFG::SIMD * CFG::IN_BITS;
    static const unsigned OUT_WIDTH = CFG::OUTPUT_MODE == 1 ? CFG::PE * CFG::ACC_BITS : CFG::PE;
    // signed accumulator: popcount 0..MW, or +-MW*2^(IN_BITS-1)
    static const unsigned SUM_BITS = clog2(CFG::MW + 1) + CFG::IN_BITS + 1;
    typedef ap_uint<IN_WIDTH> in_t;
    typedef ap_uint<OUT_WIDTH> out_t;
    typedef ap_uint<CFG::SIMD> weight_t;
    typedef ap_uint<CFG::ACC_BITS> threshold_t;
    typedef ap_int<SUM_BITS> sum_t;
};

// One frame: OUT_H*OUT_W pixels of SF beats in, NF beats out.
template <class CFG>
void mvau(hls::stream<typename mvau_traits<CFG>::in_t> &in, hls::stream<typename mvau_traits<CFG>::out_t> &out,
          const typename mvau_traits<CFG>::weight_t weights[CFG::PE][mvau_traits<CFG>::NF * mvau_traits<CFG>::SF],
          const typename mvau_traits<CFG>::threshold_t thresholds[CFG::PE][mvau_traits<CFG>::NF * mvau_traits<CFG>::P]) {
#pragma HLS ARRAY_PARTITION variable = weights complete dim = 1
#pragma HLS ARRAY_PARTITION variable = thresholds complete dim = 1
    typedef mvau_traits<CFG> T;
    typedef typename T::sum_t sum_t;
    static_assert(CFG::MW % CFG::SIMD == 0, "SIMD must divide MW");
    static_assert(CFG::MH % CFG::PE == 0, "PE must divide MH");
    static_assert(CFG::INPUT_MODE == 1 || CFG::IN_BITS == 1, "binary input has IN_BITS = 1");
    static_assert(CFG::ACC_BITS >= 2, "ACC_BITS >= 2");
    static_assert(CFG::IN_BITS <= 16, "integer inputs of at most 16 bits");

    typename T::in_t buffer[T::SF];  // the current pixel's input beats, reused for nf > 0
    sum_t acc[CFG::PE];
#pragma HLS ARRAY_PARTITION variable = acc complete dim = 1

    unsigned sf = 0, nf = 0;       // fold counters
    pixel_phase<CFG::OUT_W, CFG::POOL_H, CFG::POOL_W, CFG::PERIOD_H, CFG::PERIOD_W> phase;  // of the output pixel
    const unsigned steps = CFG::OUT_H * CFG::OUT_W * T::NF * T::SF;
steps_loop:
    for (unsigned step = 0; step < steps; step++) {
#pragma HLS PIPELINE II = 1
        typename T::in_t x;
        if (nf == 0) {
            x = in.read();
            buffer[sf] = x;
        } else {
            x = buffer[sf];
        }
        const bit_view<T::IN_WIDTH> xv(x);
    pe_loop:
        for (unsigned p = 0; p < CFG::PE; p++) {
#pragma HLS UNROLL
            const bit_view<CFG::SIMD> wv(weights[p][nf * T::SF + sf]);
            sum_t partial = 0;
            if (CFG::INPUT_MODE == 0) {
                partial = xnor_count<CFG::SIMD>(xv, 0, wv, 0);
            } else {
                partial = signed_dot<CFG::SIMD, CFG::IN_BITS>(xv, wv, 0);
            }
            acc[p] = (sf == 0 ? sum_t(0) : acc[p]) + partial;
        }
        if (sf == T::SF - 1) {
            typename T::out_t y = 0;
            const unsigned t_index = nf * T::P + phase.index();
        out_loop:
            for (unsigned p = 0; p < CFG::PE; p++) {
#pragma HLS UNROLL
                if (CFG::OUTPUT_MODE == 0) {
                    const ap_int<CFG::ACC_BITS> t = thresholds[p][t_index];
                    y[p] = acc[p] >= t;
                } else {
                    const ap_int<T::SUM_BITS + 2> value =
                        CFG::INPUT_MODE == 0 ? ap_int<T::SUM_BITS + 2>(2 * acc[p] - int(CFG::MW))
                                             : ap_int<T::SUM_BITS + 2>(acc[p]);
                    const ap_uint<CFG::ACC_BITS> bits = value;  // two's complement, truncated to ACC_BITS
                    y.range(p * CFG::ACC_BITS + CFG::ACC_BITS - 1, p * CFG::ACC_BITS) = bits;
                }
            }
            out.write(y);
        }
        // advance (sf, nf), then the output pixel and its threshold phase
        if (++sf == T::SF) {
            sf = 0;
            if (++nf == T::NF) {
                nf = 0;
                phase.next();
            }
        }
    }
}

}  // namespace signflow

#endif
