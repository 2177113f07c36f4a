// binary_maxpool.hpp: max-pool of an NHWC stream of bits (the max of bits is an OR over the window).
//
// out[oh, ow, c] = OR_{i < KH, j < KW} in[oh*STRIDE_H + i, ow*STRIDE_W + j, c], floor mode, no padding:
// OH = (IFM_H - KH) / STRIDE_H + 1, OW = (IFM_W - KW) / STRIDE_W + 1 (flow/ops/maxpool.py, `maxpool_nhwc`).
//
// Layout (same as hw_templates/rtl/binary_maxpool.sv): a beat holds PE bits, channels cf*PE .. cf*PE+PE-1
// of one pixel (lane 0 at the LSB), C/PE beats per pixel, pixels row-major; output beats likewise over the
// OH x OW pooled pixels. Rows and columns past the last full window are read and discarded.
//
// Schedule (one frame per call): input rows go to line-buffer slot (row mod KH); once row r closes the
// windows of output row oh, each output beat ORs its KH*KW words, one word per cycle.
#ifndef SIGNFLOW_BINARY_MAXPOOL_HPP
#define SIGNFLOW_BINARY_MAXPOOL_HPP

#include "signflow_common.hpp"

namespace signflow {

struct binary_maxpool_config {
    static const unsigned IFM_H = 4;     // input rows; >= KH
    static const unsigned IFM_W = 4;     // input columns; >= KW
    static const unsigned C = 8;         // channels; a multiple of PE
    static const unsigned KH = 2;        // window rows
    static const unsigned KW = 2;        // window columns
    static const unsigned STRIDE_H = 2;  // row stride
    static const unsigned STRIDE_W = 2;  // column stride
    static const unsigned PE = 8;        // channels per beat; divides C
};

template <class CFG>
struct binary_maxpool_traits {
    static const unsigned OH = (CFG::IFM_H - CFG::KH) / CFG::STRIDE_H + 1;
    static const unsigned OW = (CFG::IFM_W - CFG::KW) / CFG::STRIDE_W + 1;
    static const unsigned CF = CFG::C / CFG::PE;
    static const unsigned ROW_WORDS = CFG::IFM_W * CF;
    typedef ap_uint<CFG::PE> word_t;
};

template <class CFG>
void binary_maxpool(hls::stream<typename binary_maxpool_traits<CFG>::word_t> &in,
                    hls::stream<typename binary_maxpool_traits<CFG>::word_t> &out) {
    typedef binary_maxpool_traits<CFG> T;
    typedef typename T::word_t word_t;
    static_assert(CFG::C % CFG::PE == 0, "PE must divide C");
    static_assert(CFG::IFM_H >= CFG::KH && CFG::IFM_W >= CFG::KW, "window larger than the input");

    word_t rows[CFG::KH][T::ROW_WORDS];
#pragma HLS ARRAY_PARTITION variable = rows complete dim = 1

rows_loop:
    for (unsigned r = 0; r < CFG::IFM_H; r++) {
        read_row<word_t, T::ROW_WORDS>(in, rows[r % CFG::KH]);
        unsigned oh;
        if (!closes_window_row<CFG::KH, CFG::STRIDE_H, T::OH>(r, oh)) continue;
        unsigned ow = 0, cf = 0, i = 0, j = 0;
        word_t acc = 0;
    pool_loop:
        for (unsigned e = 0; e < T::OW * T::CF * CFG::KH * CFG::KW; e++) {
#pragma HLS PIPELINE II = 1
            const unsigned row = oh * CFG::STRIDE_H + i, col = ow * CFG::STRIDE_W + j;
            acc |= rows[row % CFG::KH][col * T::CF + cf];
            if (++j == CFG::KW) {
                j = 0;
                if (++i == CFG::KH) {
                    i = 0;
                    out.write(acc);
                    acc = 0;
                    if (++cf == T::CF) {
                        cf = 0;
                        ow++;
                    }
                }
            }
        }
    }
}

}  // namespace signflow

#endif
