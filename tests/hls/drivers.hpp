// drivers.hpp: C-simulation drivers of the signflow HLS operators for tests/hls (g++ only, not synthesized).
//
// run_<op><CFG>(dir, frames) reads dir/in.memh (input beats, hex, one per line) and the op's memories,
// calls the op once per frame, fails when input beats are left over, and writes dir/out.memh.
#ifndef SIGNFLOW_TEST_DRIVERS_HPP
#define SIGNFLOW_TEST_DRIVERS_HPP

#include <cstdio>
#include <string>

#include "signflow.hpp"
#include "signflow_csim_io.h"

namespace signflow_test {

using namespace signflow_csim;

template <class IN, class OUT>
int finish(hls::stream<IN> &in, hls::stream<OUT> &out, const std::string &dir) {
    if (!in.empty()) {
        std::fprintf(stderr, "%u input beats left over\n", unsigned(in.size()));
        return 3;
    }
    drain(out, dir + "/out.memh");
    return 0;
}

// Feeds dir/in.memh, calls `op(in, out)` once per frame, fails on left-over input, writes dir/out.memh.
template <class IN, class OUT, class OP>
int stream_frames(const std::string &dir, unsigned frames, OP op) {
    hls::stream<IN> in("in");
    hls::stream<OUT> out("out");
    feed(dir + "/in.memh", in);
    for (unsigned f = 0; f < frames; f++) op(in, out);
    return finish(in, out, dir);
}

template <class CFG>
int run_mvau(const std::string &dir, unsigned frames) {
    typedef signflow::mvau_traits<CFG> T;
    static typename T::weight_t weights[CFG::PE][T::NF * T::SF];
    static typename T::threshold_t thresholds[CFG::PE][T::NF * T::P];
    load_lanes<CFG::SIMD, CFG::PE>(dir + "/weights.memh", &weights[0][0], T::NF * T::SF);
    if (CFG::OUTPUT_MODE == 0) load_lanes<CFG::ACC_BITS, CFG::PE>(dir + "/thresholds.memh", &thresholds[0][0], T::NF * T::P);
    return stream_frames<typename T::in_t, typename T::out_t>(
        dir, frames, [&](hls::stream<typename T::in_t> &in, hls::stream<typename T::out_t> &out) { signflow::mvau<CFG>(in, out, weights, thresholds); });
}

template <class CFG>
int run_sliding_window(const std::string &dir, unsigned frames) {
    typedef signflow::sliding_window_traits<CFG> T;
    static typename T::in_t pad_values[T::CF];
    if (CFG::PAD_PER_CHANNEL) load_memory(dir + "/pad_values.memh", pad_values, T::CF);
    return stream_frames<typename T::in_t, typename T::out_t>(
        dir, frames, [&](hls::stream<typename T::in_t> &in, hls::stream<typename T::out_t> &out) { signflow::sliding_window<CFG>(in, out, pad_values); });
}

template <class CFG>
int run_maxpool(const std::string &dir, unsigned frames) {
    typedef signflow::maxpool_traits<CFG> T;
    return stream_frames<typename T::word_t, typename T::word_t>(
        dir, frames, [&](hls::stream<typename T::word_t> &in, hls::stream<typename T::word_t> &out) { signflow::maxpool<CFG>(in, out); });
}

template <class CFG>
int run_pixel_threshold(const std::string &dir, unsigned frames) {
    typedef signflow::pixel_threshold_traits<CFG> T;
    static typename T::threshold_t thresholds[T::CF * T::P];
    load_memory(dir + "/thresholds.memh", thresholds, T::CF * T::P);
    return stream_frames<typename T::in_t, typename T::out_t>(
        dir, frames, [&](hls::stream<typename T::in_t> &in, hls::stream<typename T::out_t> &out) { signflow::pixel_threshold<CFG>(in, out, thresholds); });
}

template <class CFG>
int run_label_select(const std::string &dir, unsigned frames) {
    typedef signflow::label_select_traits<CFG> T;
    return stream_frames<typename T::in_t, typename T::out_t>(
        dir, frames, [&](hls::stream<typename T::in_t> &in, hls::stream<typename T::out_t> &out) { signflow::label_select<CFG>(in, out); });
}

template <class CFG>
int run_dynamic_threshold(const std::string &dir, unsigned frames) {
    typedef signflow::dynamic_threshold_traits<CFG> T;
    static typename T::weight_t w1[T::HID * T::G], w2[T::HID * T::G];
    static typename T::threshold_t thr[T::G * T::CODES];
    static typename T::dir_t neg[T::G];
    load_memory(dir + "/w1.memh", w1, T::HID * T::G);
    load_memory(dir + "/w2.memh", w2, T::HID * T::G);
    load_memory(dir + "/thr.memh", thr, T::G * T::CODES);
    load_memory(dir + "/dir.memh", neg, T::G);
    return stream_frames<typename T::in_t, typename T::out_t>(
        dir, frames, [&](hls::stream<typename T::in_t> &in, hls::stream<typename T::out_t> &out) { signflow::dynamic_threshold<CFG>(in, out, w1, w2, thr, neg); });
}

template <class CFG>
int run_width_converter(const std::string &dir, unsigned frames) {
    typedef signflow::width_converter_traits<CFG> T;
    return stream_frames<typename T::in_t, typename T::out_t>(
        dir, frames, [&](hls::stream<typename T::in_t> &in, hls::stream<typename T::out_t> &out) { signflow::width_converter<CFG>(in, out); });
}

}  // namespace signflow_test

#endif
