// pixel_threshold.hpp: per-channel, per-pixel-phase thresholding of an NHWC accumulator stream into bits.
//
// out[h, w, c] = acc[h, w, c] >= thr[c, phase], phase = (h mod PERIOD_H) * PERIOD_W + (w mod PERIOD_W),
// signed comparison (flow/ops/threshold.py, `threshold`; DeSign when the period is larger than 1x1). Before a
// POOL_H x POOL_W OR pool the phase is the pooled pixel's: h / POOL_H and w / POOL_W replace h and w.
//
// Layout (same as hw_templates/rtl/pixel_threshold.sv): an input beat holds PE signed ACC_BITS lanes,
// channels cf*PE .. cf*PE+PE-1 of one pixel; C/PE beats per pixel, H x W pixels per frame, row-major.
// An output beat holds PE bits. thresholds: C/PE * P words of PE*ACC_BITS bits, word cf*P + phase,
// lane p = thr[cf*PE + p, phase] (flow.packing.mvau_threshold_words). One beat per cycle.
#ifndef SIGNFLOW_PIXEL_THRESHOLD_HPP
#define SIGNFLOW_PIXEL_THRESHOLD_HPP

#include "signflow_common.hpp"

namespace signflow {

struct pixel_threshold_config {
    static const unsigned H = 1;          // pixel rows per frame
    static const unsigned W = 1;          // pixel columns per frame
    static const unsigned C = 8;          // channels; a multiple of PE
    static const unsigned PE = 1;         // channels per beat; divides C
    static const unsigned ACC_BITS = 16;  // bits of a signed accumulator and of a threshold
    static const unsigned PERIOD_H = 1;   // rows of the threshold period
    static const unsigned PERIOD_W = 1;   // columns of the threshold period
    static const unsigned POOL_H = 1;     // rows of the OR pool that follows (phase per pooled pixel)
    static const unsigned POOL_W = 1;     // columns of the OR pool that follows
};

template <class CFG>
struct pixel_threshold_traits {
    static const unsigned CF = CFG::C / CFG::PE;
    static const unsigned P = CFG::PERIOD_H * CFG::PERIOD_W;
    typedef ap_uint<CFG::PE * CFG::ACC_BITS> in_t;
    typedef ap_uint<CFG::PE> out_t;
    typedef ap_uint<CFG::PE * CFG::ACC_BITS> threshold_t;
};

template <class CFG>
void pixel_threshold(hls::stream<typename pixel_threshold_traits<CFG>::in_t> &in,
                     hls::stream<typename pixel_threshold_traits<CFG>::out_t> &out,
                     const typename pixel_threshold_traits<CFG>::threshold_t
                         thresholds[pixel_threshold_traits<CFG>::CF * pixel_threshold_traits<CFG>::P]) {
    typedef pixel_threshold_traits<CFG> T;
    static_assert(CFG::C % CFG::PE == 0, "PE must divide C");
    unsigned cf = 0;
    pixel_phase<CFG::W, CFG::POOL_H, CFG::POOL_W, CFG::PERIOD_H, CFG::PERIOD_W> phase;
beats_loop:
    for (unsigned b = 0; b < CFG::H * CFG::W * T::CF; b++) {
#pragma HLS PIPELINE II = 1
        const typename T::in_t x = in.read();
        const typename T::threshold_t t_word = thresholds[cf * T::P + phase.index()];
        typename T::out_t y = 0;
        for (unsigned p = 0; p < CFG::PE; p++) {
#pragma HLS UNROLL
            const ap_int<CFG::ACC_BITS> a = lane<CFG::ACC_BITS>(x, p);
            const ap_int<CFG::ACC_BITS> t = lane<CFG::ACC_BITS>(t_word, p);
            y[p] = a >= t;
        }
        out.write(y);
        if (++cf == T::CF) {
            cf = 0;
            phase.next();
        }
    }
}

}  // namespace signflow

#endif
