// hls_stream.h: a minimal hls::stream<T> model for g++ C simulation of hw_templates/hls.
//
// Only for csim: put this directory first on the include path (-I hw_templates/hls/sim); Vitis HLS
// brings its own hls_stream.h. Unbounded FIFO (full() is always false); a blocking read of an empty
// stream is a deadlock in hardware, so it aborts here.
#ifndef SIGNFLOW_SIM_HLS_STREAM_H
#define SIGNFLOW_SIM_HLS_STREAM_H

#include <cassert>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

namespace hls {

// hls::stream<T, DEPTH> (Vitis HLS 2020.2+) is an hls::stream<T> whose FIFO depth is DEPTH; the C
// model ignores the depth and keeps the inheritance, so it binds to hls::stream<T>& parameters
template <typename T, int DEPTH = 0>
class stream;

template <typename T>
class stream<T, 0> {
  public:
    stream() : name_("stream") {}
    explicit stream(const char *name) : name_(name) {}
    stream(const stream &) = delete;
    stream &operator=(const stream &) = delete;

    bool empty() const { return fifo_.empty(); }
    bool full() const { return false; }
    std::size_t size() const { return fifo_.size(); }

    T read() {
        if (fifo_.empty()) {
            std::fprintf(stderr, "hls::stream '%s': blocking read of an empty stream\n", name_.c_str());
            assert(!fifo_.empty());
            std::abort();
        }
        T value = fifo_.front();
        fifo_.pop_front();
        return value;
    }
    void read(T &value) { value = read(); }
    bool read_nb(T &value) {
        if (fifo_.empty()) return false;
        value = read();
        return true;
    }
    void write(const T &value) { fifo_.push_back(value); }
    bool write_nb(const T &value) {
        write(value);
        return true;
    }
    // the queued values, oldest first (C-simulation taps; not part of the Vitis API)
    const std::deque<T> &contents() const { return fifo_; }
    void operator>>(T &value) { read(value); }
    void operator<<(const T &value) { write(value); }

  private:
    std::string name_;
    std::deque<T> fifo_;
};

template <typename T, int DEPTH>
class stream : public stream<T, 0> {
  public:
    stream() {}
    explicit stream(const char *name) : stream<T, 0>(name) {}
};

}  // namespace hls

#endif
