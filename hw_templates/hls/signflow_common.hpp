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

}  // namespace signflow

#endif
