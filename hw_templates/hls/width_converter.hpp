// width_converter.hpp: re-slices a frame of bits from IN_WIDTH-bit beats into OUT_WIDTH-bit beats
// (twin of hw_templates/rtl/axis_width_converter.sv).
//
// Output bit k of a frame is input bit k (LSB first within a beat, beats in order), for any ratio of the
// widths (8 -> 32, 6 -> 4, 1 -> 9, ...). A frame is FRAME_BITS/IN_WIDTH input beats and FRAME_BITS/OUT_WIDTH
// output beats; both widths divide FRAME_BITS, so no bit is left over at the end of a call.
//
// Schedule: one pipelined loop of max(input beats, output beats) iterations. An iteration reads a beat when
// fewer than OUT_WIDTH bits are buffered, then writes a beat when at least OUT_WIDTH are. When widening, the
// buffer always holds fewer than OUT_WIDTH bits at the start of an iteration, so every iteration reads;
// when narrowing (or equal), a read always brings OUT_WIDTH bits or more, so every iteration writes. Either
// way the loop count is exact and the buffer never holds more than IN_WIDTH + OUT_WIDTH - 1 bits.
#ifndef SIGNFLOW_WIDTH_CONVERTER_HPP
#define SIGNFLOW_WIDTH_CONVERTER_HPP

#include "signflow_common.hpp"

namespace signflow {

struct width_converter_config {
    static const int IN_WIDTH = 8;    // bits per input beat; >= 1
    static const int OUT_WIDTH = 8;   // bits per output beat; >= 1
    static const int FRAME_BITS = 8;  // bits per frame; a multiple of IN_WIDTH and of OUT_WIDTH
};

template <class CFG>
struct width_converter_traits {
    static const int IN_WIDTH = CFG::IN_WIDTH;
    static const int OUT_WIDTH = CFG::OUT_WIDTH;
    static const int IN_BEATS = int(CFG::FRAME_BITS) / IN_WIDTH;
    static const int OUT_BEATS = int(CFG::FRAME_BITS) / OUT_WIDTH;
    static const int STEPS = IN_BEATS > OUT_BEATS ? IN_BEATS : OUT_BEATS;
    // buffer bits: at most IN_WIDTH + OUT_WIDTH - 1 are held, plus one spare so that the shift by
    // OUT_WIDTH is always narrower than the buffer word
    static const int CAP = IN_WIDTH + OUT_WIDTH;
    typedef ap_uint<IN_WIDTH> in_t;
    typedef ap_uint<OUT_WIDTH> out_t;
    typedef ap_uint<CAP> buffer_t;
    typedef ap_uint<clog2(CAP)> count_t;  // 0 .. CAP - 1
};

template <class CFG>
void width_converter(hls::stream<typename width_converter_traits<CFG>::in_t> &in,
                     hls::stream<typename width_converter_traits<CFG>::out_t> &out) {
    typedef width_converter_traits<CFG> T;
    static_assert(T::IN_WIDTH >= 1 && T::OUT_WIDTH >= 1, "widths must be >= 1");
    static_assert(int(CFG::FRAME_BITS) >= 1 && int(CFG::FRAME_BITS) % T::IN_WIDTH == 0 &&
                      int(CFG::FRAME_BITS) % T::OUT_WIDTH == 0,
                  "FRAME_BITS must be a positive multiple of both widths");
    typename T::buffer_t buffer = 0;  // bits [0, count) are pending, the rest are zero
    typename T::count_t count = 0;
steps_loop:
    for (int i = 0; i < T::STEPS; i++) {
#pragma HLS PIPELINE II = 1
        if (count < T::OUT_WIDTH) {
            buffer |= typename T::buffer_t(in.read()) << count;
            count += T::IN_WIDTH;
        }
        if (count >= T::OUT_WIDTH) {
            out.write(buffer.range(T::OUT_WIDTH - 1, 0));
            buffer >>= T::OUT_WIDTH;
            count -= T::OUT_WIDTH;
        }
    }
}

}  // namespace signflow

#endif
