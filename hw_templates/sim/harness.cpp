// signflow Verilator harness: streams frames through the stitched top, with random
// input stalls and output back-pressure, and records every output beat with its cycle.
//
//   harness IN.hex OUT.txt STALL_PROB BACKPRESSURE_PROB SEED EXPECTED MAX_CYCLES [TAPS_DIR|-] [TRACE.vcd]
//
// IN.hex: one input beat per line (hex). OUT.txt: "cycle hex" per output beat.
// Stops after EXPECTED output beats (exit 0), or when MAX_CYCLES cycles have passed without them: then it
// writes "timeout after N cycles, R/EXPECTED beats" to stderr and exits with 3 (the caller's cycle limit follows
// from the estimated latency and cycles per frame).
// TAPS_DIR: also log every internal link's beats as TAPS_DIR/<name>.txt.
// harness_config.h (generated per design) includes the Verilated top and defines
// VTOP, OUT_BITS and SIGNFLOW_TAPS(X), the list of internal links.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "harness_config.h"
#include "verilated.h"
#if VM_TRACE
#include "verilated_vcd_c.h"
#endif

using Words = std::vector<uint32_t>;  // a beat, 32-bit words, least significant first

static Words parse_hex(const std::string& text) {
  Words words;
  for (int end = (int)text.size(); end > 0; end -= 8) {
    int start = end > 8 ? end - 8 : 0;
    words.push_back((uint32_t)std::stoul(text.substr(start, end - start), nullptr, 16));
  }
  return words;
}

static std::string to_hex(const Words& words, int bits) {
  std::string out;
  char buf[16];
  int digits = (bits + 3) / 4;
  for (int i = (int)words.size() - 1; i >= 0; --i) {
    std::snprintf(buf, sizeof buf, "%08x", words[i]);
    out += buf;
  }
  return out.substr(out.size() - digits);
}

// Scalar and wide signals, read and written as 32-bit words.
template <typename T> static void put(T& sig, const Words& w) {
  uint64_t v = w.empty() ? 0 : w[0];
  if (sizeof(T) > 4 && w.size() > 1) v |= (uint64_t)w[1] << 32;
  sig = (T)v;
}
template <std::size_t N> static void put(VlWide<N>& sig, const Words& w) {
  for (std::size_t i = 0; i < N; ++i) sig[i] = i < w.size() ? w[i] : 0;
}
template <typename T> static Words get(const T& sig) {
  uint64_t v = (uint64_t)sig;
  return sizeof(T) > 4 ? Words{(uint32_t)v, (uint32_t)(v >> 32)} : Words{(uint32_t)v};
}
template <std::size_t N> static Words get(const VlWide<N>& sig) {
  Words w(N);
  for (std::size_t i = 0; i < N; ++i) w[i] = sig[i];
  return w;
}

struct Tap {
  std::FILE* file;
};

int main(int argc, char** argv) {
  if (argc < 8) {
    std::fprintf(stderr, "usage: %s IN.hex OUT.txt STALL BACKPRESSURE SEED EXPECTED MAX_CYCLES [TAPS_DIR|-] [TRACE]\n",
                 argv[0]);
    return 2;
  }
  std::vector<Words> inputs;
  {
    std::ifstream in(argv[1]);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) inputs.push_back(parse_hex(line));
  }
  std::FILE* out = std::fopen(argv[2], "w");
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", argv[2]);
    return 2;
  }
  const double stall = std::atof(argv[3]), backpressure = std::atof(argv[4]);
  std::mt19937_64 rng(std::strtoull(argv[5], nullptr, 10));
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  const uint64_t expected = std::strtoull(argv[6], nullptr, 10), max_cycles = std::strtoull(argv[7], nullptr, 10);
  const std::string taps_dir = argc > 8 && std::string(argv[8]) != "-" ? argv[8] : "";

  auto context = std::make_unique<VerilatedContext>();
  auto top = std::make_unique<VTOP>(context.get());
#if VM_TRACE
  std::unique_ptr<VerilatedVcdC> trace;
  if (argc > 9) {
    context->traceEverOn(true);
    trace = std::make_unique<VerilatedVcdC>();
    top->trace(trace.get(), 99);
    trace->open(argv[9]);
  }
#endif
  std::vector<Tap> taps;
#define SIGNFLOW_OPEN_TAP(NAME, DATA, VALID, READY, BITS) \
  taps.push_back(Tap{taps_dir.empty() ? nullptr : std::fopen((taps_dir + "/" NAME ".txt").c_str(), "w")});
  SIGNFLOW_TAPS(SIGNFLOW_OPEN_TAP)

  uint64_t cycle = 0, time = 0;
  auto tick = [&](int clk) {
    top->ap_clk = clk;
    top->eval();
#if VM_TRACE
    if (trace) trace->dump(time);
#endif
    ++time;
  };
  top->ap_rst_n = 0;
  top->s_axis_0_tvalid = 0;
  top->m_axis_0_tready = 0;
  for (int i = 0; i < 4; ++i) {
    tick(0);
    tick(1);
  }
  top->ap_rst_n = 1;
  std::size_t next = 0;
  uint64_t received = 0;
  bool timed_out = false;
  while (received < expected) {
    if (cycle >= max_cycles) {
      timed_out = true;  // hung or too slow: the caller reports a timeout
      break;
    }
    bool valid = next < inputs.size() && !(stall > 0 && coin(rng) < stall);
    top->s_axis_0_tvalid = valid;
    if (next < inputs.size()) put(top->s_axis_0_tdata, inputs[next]);
    top->m_axis_0_tready = !(backpressure > 0 && coin(rng) < backpressure);
    tick(0);
    bool in_fire = top->s_axis_0_tvalid && top->s_axis_0_tready;
    bool out_fire = top->m_axis_0_tvalid && top->m_axis_0_tready;
    if (out_fire) {
      ++received;
      std::fprintf(out, "%llu %s\n", (unsigned long long)cycle, to_hex(get(top->m_axis_0_tdata), OUT_BITS).c_str());
    }
    if (!taps_dir.empty()) {
      std::size_t index = 0;
#define SIGNFLOW_LOG_TAP(NAME, DATA, VALID, READY, BITS)                                             \
  if (top->rootp->VALID && top->rootp->READY)                                                       \
    std::fprintf(taps[index].file, "%llu %s\n", (unsigned long long)cycle, to_hex(get(top->rootp->DATA), BITS).c_str()); \
  ++index;
      SIGNFLOW_TAPS(SIGNFLOW_LOG_TAP)
    }
    tick(1);
    if (in_fire) ++next;
    ++cycle;
  }
  if (timed_out)
    std::fprintf(stderr, "timeout after %llu cycles, %llu/%llu beats\n", (unsigned long long)cycle,
                 (unsigned long long)received, (unsigned long long)expected);
  std::fprintf(stderr, "cycles %llu inputs %zu/%zu\n", (unsigned long long)cycle, next, inputs.size());
  for (auto& tap : taps)
    if (tap.file) std::fclose(tap.file);
#if VM_TRACE
  if (trace) trace->close();
#endif
  std::fclose(out);
  top->final();
  return timed_out ? 3 : 0;
}
