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

// Bit-level access to wide words. In synthesis (and in the "hardware form" C simulation the tests also
// run) a slice is ap_uint range selection, which is wiring. Bit-by-bit ap_uint arithmetic makes large
// layers slow to simulate, so with SIGNFLOW_HOST_WORDS (set by the signflow g++ C simulation) the word is
// split once into 64-bit host integers and slices, popcounts and lanes come from those.
#if defined(SIGNFLOW_HOST_WORDS) && !defined(__SYNTHESIS__)
template <int W>
class bit_view {
  public:
    // reads the 64-bit limbs of the open ap_int C-simulation model directly (ap_private::get_pVal)
    explicit bit_view(const ap_uint<W> &word) {
        for (int c = 0; c < CHUNKS; c++) chunk_[c] = word.V.get_pVal(c);
        if (W % 64) chunk_[CHUNKS - 1] &= (1ULL << (W % 64)) - 1;
        chunk_[CHUNKS] = 0;
    }
    // bits [offset, offset + n) as an unsigned value, n <= 64
    unsigned long long get(unsigned offset, unsigned n) const {
        const unsigned c = offset / 64, shift = offset % 64;
        unsigned long long value = chunk_[c] >> shift;
        if (shift != 0 && shift + n > 64) value |= chunk_[c + 1] << (64 - shift);
        return n == 64 ? value : value & ((1ULL << n) - 1);
    }

  private:
    static const int CHUNKS = (W + 63) / 64;
    unsigned long long chunk_[CHUNKS + 1];
};

inline unsigned popcount64(unsigned long long bits) { return __builtin_popcountll(bits); }
#else
template <int W>
class bit_view {
  public:
    explicit bit_view(const ap_uint<W> &word) : word_(word) {}
    ap_uint<64> get(unsigned offset, unsigned n) const {
#pragma HLS INLINE
        return ap_uint<64>(word_.range(offset + n - 1, offset));
    }

  private:
    const ap_uint<W> word_;
};

inline unsigned popcount64(const ap_uint<64> &bits) {
#pragma HLS INLINE
    unsigned count = 0;
popcount_loop:
    for (int i = 0; i < 64; i++) {
#pragma HLS UNROLL
        count += bits[i];
    }
    return count;
}
#endif

// Number of equal bits of a[a_offset + i] and b[b_offset + i], i < N: the XNOR-popcount of binary layers.
template <unsigned N, int WA, int WB>
unsigned xnor_count(const bit_view<WA> &a, unsigned a_offset, const bit_view<WB> &b, unsigned b_offset) {
#pragma HLS INLINE
    unsigned count = 0;
xnor_loop:
    for (unsigned done = 0; done < N; done += 64) {
#pragma HLS UNROLL
        const unsigned n = N - done < 64 ? N - done : 64;
        const unsigned long long mask = n == 64 ? ~0ULL : (1ULL << n) - 1;
        count += popcount64(~(a.get(a_offset + done, n) ^ b.get(b_offset + done, n)) & mask);
    }
    return count;
}

// sum_i (b[b_offset + i] ? x_i : -x_i) over N signed BITS-bit lanes x_i of `a`: the integer-input dot
// product of the first layer (host integers with SIGNFLOW_HOST_WORDS, ap_int otherwise).
template <unsigned N, unsigned BITS, int WA, int WB>
int signed_dot(const bit_view<WA> &a, const bit_view<WB> &b, unsigned b_offset) {
#pragma HLS INLINE
#if defined(SIGNFLOW_HOST_WORDS) && !defined(__SYNTHESIS__)
    long long sum = 0;
    for (unsigned i = 0; i < N; i++) {
        const unsigned long long bits = a.get(i * BITS, BITS);
        const long long x = (bits ^ (1ULL << (BITS - 1))) - (1LL << (BITS - 1));  // sign-extend
        sum += b.get(b_offset + i, 1) ? x : -x;
    }
    return int(sum);
#else
    ap_int<BITS + 1 + clog2(N + 1)> sum = 0;
dot_loop:
    for (unsigned i = 0; i < N; i++) {
#pragma HLS UNROLL
        const ap_int<BITS + 1> x = ap_int<BITS>(ap_uint<BITS>(a.get(i * BITS, BITS)));
        sum += b.get(b_offset + i, 1) ? x : ap_int<BITS + 1>(-x);
    }
    return sum.to_int();
#endif
}

// The threshold phase of the current pixel in a row-major scan of a W-wide map, as counters (no division):
// ((h / POOL_H) % PERIOD_H) * PERIOD_W + ((w / POOL_W) % PERIOD_W); next() moves to the next pixel.
template <unsigned W, unsigned POOL_H, unsigned POOL_W, unsigned PERIOD_H, unsigned PERIOD_W>
struct pixel_phase {
    unsigned w = 0, pool_h = 0, pool_w = 0, phase_h = 0, phase_w = 0;

    unsigned index() const { return phase_h * PERIOD_W + phase_w; }

    void next() {
        if (++pool_w == POOL_W) {
            pool_w = 0;
            if (++phase_w == PERIOD_W) phase_w = 0;
        }
        if (++w == W) {
            w = 0;
            pool_w = 0;
            phase_w = 0;
            if (++pool_h == POOL_H) {
                pool_h = 0;
                if (++phase_h == PERIOD_H) phase_h = 0;
            }
        }
    }
};

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
