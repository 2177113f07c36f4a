// label_select.hpp: the index of the largest of NUM signed scores per frame (argmax, ties to the lowest index).
//
// out = min { i : score[i] = max_j score[j] }, as numpy's argmax (flow/ops/label_select.py).
//
// Layout (same as hw_templates/rtl/label_select.sv): an input beat holds PE signed BITS-bit scores,
// indices b*PE .. b*PE+PE-1 of beat b; NUM/PE beats per frame. One output beat per frame: the index,
// unsigned, IDX_BITS = max(1, clog2(NUM)) bits. Lanes are scanned from lane 0 up; a later score wins
// only when strictly larger. One beat per cycle.
#ifndef SIGNFLOW_LABEL_SELECT_HPP
#define SIGNFLOW_LABEL_SELECT_HPP

#include "signflow_common.hpp"

namespace signflow {

struct label_select_config {
    static const unsigned NUM = 10;  // scores per frame; a multiple of PE
    static const unsigned PE = 1;    // scores per beat; divides NUM
    static const unsigned BITS = 8;  // bits of a signed score
};

template <class CFG>
struct label_select_traits {
    static const unsigned IDX_BITS = max_u(1, clog2(CFG::NUM));
    typedef ap_uint<CFG::PE * CFG::BITS> in_t;
    typedef ap_uint<IDX_BITS> out_t;
};

template <class CFG>
void label_select(hls::stream<typename label_select_traits<CFG>::in_t> &in,
                  hls::stream<typename label_select_traits<CFG>::out_t> &out) {
    typedef label_select_traits<CFG> T;
    static_assert(CFG::NUM % CFG::PE == 0, "PE must divide NUM");
    ap_int<CFG::BITS> best = 0;
    typename T::out_t best_index = 0;
beats_loop:
    for (unsigned b = 0; b < CFG::NUM / CFG::PE; b++) {
#pragma HLS PIPELINE II = 1
        const typename T::in_t x = in.read();
        // best of this beat, lane 0 first
        ap_int<CFG::BITS> beat_best = lane<CFG::BITS>(x, 0);
        unsigned beat_lane = 0;
        for (unsigned p = 1; p < CFG::PE; p++) {
#pragma HLS UNROLL
            const ap_int<CFG::BITS> score = lane<CFG::BITS>(x, p);
            if (score > beat_best) {
                beat_best = score;
                beat_lane = p;
            }
        }
        if (b == 0 || beat_best > best) {
            best = beat_best;
            best_index = b * CFG::PE + beat_lane;
        }
    }
    out.write(best_index);
}

}  // namespace signflow

#endif
