// sliding_window.hpp: im2col on an NHWC stream (convolution input generator) with a KH-row line buffer.
//
// Formula: OH = (IFM_H + PAD_TOP + PAD_BOTTOM - KH) / STRIDE_H + 1, OW likewise (floor);
//          out[oh, ow, (i*KW + j)*C + c] = padded[oh*STRIDE_H + i, ow*STRIDE_W + j, c], where padded is the
//          input surrounded by PAD_* pixels of pad values (flow/ops/sliding_window.py, `sliding_window`):
//          PAD_VALUE in every channel, or with PAD_PER_CHANNEL one value per channel from `pad_values`.
//
// Layout (lane 0 at the LSB, BITS bits per lane; same as hw_templates/rtl/sliding_window.sv):
//  - SIMD mode (SIMD divides C): input beats hold SIMD channels of one pixel, C/SIMD beats per pixel;
//    output beats hold SIMD window elements, ordered oh, ow, then i, j, then channel group cf.
//  - Parallel-window mode (SIMD == KH*KW*C, KH*KW > 1): an input beat holds one pixel (C lanes), an output
//    beat one whole window (KH*KW*C lanes in (i, j, c) order).
//  - pad_values (read when PAD_PER_CHANNEL = 1): CF words of IN_LANES*BITS bits, one per input word of a
//    pixel, word cf lane l = pad value of channel cf*IN_LANES + l (one word, a whole pixel, in
//    parallel-window mode). Uniform pads ignore it (the generated code passes zeros).
//
// Schedule (one frame per call): one pipelined loop that, each cycle, reads an input word when a line-buffer
// slot is free and emits an output beat when its window rows are all in. Input row r goes to slot
// r mod (KH+1): the output row being emitted uses at most KH slots, so the next row streams in meanwhile,
// and a frame takes about max(IFM_H*IFM_W*CF, OH*OW*BEATS_PER_WINDOW) cycles (as the RTL core; with
// STRIDE_H > 1 a row may wait for its slot). Pad pixels are never stored.
#ifndef SIGNFLOW_SLIDING_WINDOW_HPP
#define SIGNFLOW_SLIDING_WINDOW_HPP

#include "signflow_common.hpp"

namespace signflow {

struct sliding_window_config {
    static const unsigned IFM_H = 8;       // input rows
    static const unsigned IFM_W = 8;       // input columns
    static const unsigned C = 1;           // channels
    static const unsigned KH = 3;          // window rows; <= IFM_H + PAD_TOP + PAD_BOTTOM
    static const unsigned KW = 3;          // window columns; <= IFM_W + PAD_LEFT + PAD_RIGHT
    static const unsigned STRIDE_H = 1;    // row stride
    static const unsigned STRIDE_W = 1;    // column stride
    static const unsigned PAD_TOP = 0;     // padding rows above; < KH
    static const unsigned PAD_LEFT = 0;    // padding columns left; < KW
    static const unsigned PAD_BOTTOM = 0;  // padding rows below; < KH
    static const unsigned PAD_RIGHT = 0;   // padding columns right; < KW
    static const unsigned BITS = 1;        // bits per element
    static const unsigned SIMD = 1;        // elements per output beat: a divisor of C, or KH*KW*C
    static const unsigned PAD_VALUE = 0;   // bit pattern of a padded element (two's complement if signed)
    static const unsigned PAD_PER_CHANNEL = 0;  // 0: every padded element is PAD_VALUE; 1: from pad_values
};

template <class CFG>
struct sliding_window_traits {
    static const unsigned OH = (CFG::IFM_H + CFG::PAD_TOP + CFG::PAD_BOTTOM - CFG::KH) / CFG::STRIDE_H + 1;
    static const unsigned OW = (CFG::IFM_W + CFG::PAD_LEFT + CFG::PAD_RIGHT - CFG::KW) / CFG::STRIDE_W + 1;
    static const bool PARALLEL = CFG::SIMD == CFG::KH * CFG::KW * CFG::C && CFG::KH * CFG::KW > 1;
    static const unsigned IN_LANES = PARALLEL ? CFG::C : CFG::SIMD;
    static const unsigned CF = CFG::C / IN_LANES;                  // input words per pixel
    static const unsigned WORDS_PER_BEAT = CFG::SIMD / IN_LANES;   // input words per output beat: 1 or KH*KW
    static const unsigned BEATS_PER_WINDOW = CFG::KH * CFG::KW * CF / WORDS_PER_BEAT;
    static const unsigned ROW_WORDS = CFG::IFM_W * CF;
    static const unsigned PADDED_H = CFG::IFM_H + CFG::PAD_TOP + CFG::PAD_BOTTOM;
    typedef ap_uint<IN_LANES * CFG::BITS> in_t;
    typedef ap_uint<CFG::SIMD * CFG::BITS> out_t;
};

template <class CFG>
void sliding_window(hls::stream<typename sliding_window_traits<CFG>::in_t> &in,
                    hls::stream<typename sliding_window_traits<CFG>::out_t> &out,
                    const typename sliding_window_traits<CFG>::in_t pad_values[sliding_window_traits<CFG>::CF]) {
    typedef sliding_window_traits<CFG> T;
    typedef typename T::in_t word_t;
    static_assert(CFG::C % T::IN_LANES == 0, "SIMD must divide C (or equal KH*KW*C)");
    static_assert(CFG::PAD_TOP < CFG::KH && CFG::PAD_BOTTOM < CFG::KH, "vertical padding < KH");
    static_assert(CFG::PAD_LEFT < CFG::KW && CFG::PAD_RIGHT < CFG::KW, "horizontal padding < KW");
    static_assert(CFG::PAD_PER_CHANNEL <= 1, "PAD_PER_CHANNEL is 0 or 1");

#pragma HLS ARRAY_PARTITION variable = pad_values complete  // a few constant words: wires
    static const unsigned SLOTS = CFG::KH + 1;
    word_t rows[SLOTS][T::ROW_WORDS];
#pragma HLS ARRAY_PARTITION variable = rows complete dim = 1
// the slot written is never one the emitted window reads (see the conditions below)
#pragma HLS DEPENDENCE variable = rows inter false

    const ap_uint<CFG::BITS> pad_value = CFG::PAD_VALUE;
    word_t uniform_pad = 0;
    for (unsigned l = 0; l < T::IN_LANES; l++) {
#pragma HLS UNROLL
        uniform_pad.range(l * CFG::BITS + CFG::BITS - 1, l * CFG::BITS) = pad_value;
    }

    const unsigned in_words = CFG::IFM_H * T::ROW_WORDS, out_beats = T::OH * T::OW * T::BEATS_PER_WINDOW;
    unsigned in_done = 0, rows_read = 0, col = 0;        // input words read; complete rows; word in the row
    unsigned out_done = 0, oh = 0, ow = 0, beat = 0;     // output beats written; the next beat's position
step_loop:
    while (in_done < in_words || out_done < out_beats) {
#pragma HLS PIPELINE II = 1
        // real input rows [first, last) make output row oh's windows
        const int top = int(oh * CFG::STRIDE_H) - int(CFG::PAD_TOP);
        const unsigned first = top < 0 ? 0 : unsigned(top);
        const unsigned last = unsigned(top + int(CFG::KH)) < CFG::IFM_H ? unsigned(top + int(CFG::KH)) : CFG::IFM_H;
        const bool emit = out_done < out_beats && rows_read >= last;
        // a row may overwrite the slot of a row before `first` only (rows [first, rows_read] fit in SLOTS)
        const bool read = in_done < in_words && (out_done == out_beats || rows_read < first + SLOTS);
        if (emit) {
            typename T::out_t y = 0;
        word_loop:
            for (unsigned k = 0; k < T::WORDS_PER_BEAT; k++) {
#pragma HLS UNROLL
                const unsigned q = beat * T::WORDS_PER_BEAT + k;  // word of the window in (i, j, cf) order
                const unsigned cf = q % T::CF, i = q / T::CF / CFG::KW, j = q / T::CF % CFG::KW;
                const unsigned row = oh * CFG::STRIDE_H + i, c = ow * CFG::STRIDE_W + j;  // padded coords
                const bool real = row >= CFG::PAD_TOP && row < CFG::PAD_TOP + CFG::IFM_H &&
                                  c >= CFG::PAD_LEFT && c < CFG::PAD_LEFT + CFG::IFM_W;
                const word_t pad_word = CFG::PAD_PER_CHANNEL ? pad_values[cf] : uniform_pad;
                const word_t word =
                    real ? rows[(row - CFG::PAD_TOP) % SLOTS][(c - CFG::PAD_LEFT) * T::CF + cf] : pad_word;
                y.range((k + 1) * T::IN_LANES * CFG::BITS - 1, k * T::IN_LANES * CFG::BITS) = word;
            }
            out.write(y);
            out_done++;
            if (++beat == T::BEATS_PER_WINDOW) {
                beat = 0;
                if (++ow == T::OW) {
                    ow = 0;
                    oh++;
                }
            }
        }
        if (read) {
            rows[rows_read % SLOTS][col] = in.read();
            in_done++;
            if (++col == T::ROW_WORDS) {
                col = 0;
                rows_read++;
            }
        }
    }
}

}  // namespace signflow

#endif
