// signflow_common.hpp: compile-time helpers shared by the signflow HLS operators.
//
// Stream conventions (hw_templates/rtl/README.md): NHWC order, element i of a beat in bits
// [i*BW, (i+1)*BW), lane 0 at the LSB, signed values in two's complement.
#ifndef SIGNFLOW_COMMON_HPP
#define SIGNFLOW_COMMON_HPP

#include <ap_int.h>
#include <hls_stream.h>

namespace signflow {

// ceil(log2(n)); 0 for n <= 1
constexpr unsigned clog2(unsigned n) { return n <= 1 ? 0 : 1 + clog2((n + 1) / 2); }

constexpr unsigned max_u(unsigned a, unsigned b) { return a > b ? a : b; }

// lane `i` of `word`, `BW` bits wide, as an unsigned value
template <unsigned BW, int W>
ap_uint<BW> lane(const ap_uint<W> &word, unsigned i) {
#pragma HLS INLINE
    return word.range(i * BW + BW - 1, i * BW);
}

// Line buffers of window ops: input row r is stored in slot r mod KH, and it is the last row of the
// window of output row oh = (r + 1 - KH) / STRIDE when that divides; returns whether r closes row `oh`.
template <unsigned KH, unsigned STRIDE, unsigned OH>
bool closes_window_row(unsigned r, unsigned &oh) {
#pragma HLS INLINE
    if (r + 1 < KH || (r + 1 - KH) % STRIDE != 0) return false;
    oh = (r + 1 - KH) / STRIDE;
    return oh < OH;
}

// Reads one input row (WORDS beats) into its line-buffer slot.
template <class WORD, unsigned WORDS>
void read_row(hls::stream<WORD> &in, WORD row[WORDS]) {
#pragma HLS INLINE
read_row_loop:
    for (unsigned k = 0; k < WORDS; k++) {
#pragma HLS PIPELINE II = 1
        row[k] = in.read();
    }
}

// Copies BEATS beats between streams of different widths, zero-extending or truncating each beat
// (the top's ports are whole bytes wide).
template <unsigned BEATS, int WI, int WO>
void resize_beats(hls::stream<ap_uint<WI> > &in, hls::stream<ap_uint<WO> > &out) {
resize_loop:
    for (unsigned i = 0; i < BEATS; i++) {
#pragma HLS PIPELINE II = 1
        out.write(ap_uint<WO>(in.read()));
    }
}

}  // namespace signflow

#endif
