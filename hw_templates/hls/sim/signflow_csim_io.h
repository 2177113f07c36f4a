// signflow_csim_io.h: text I/O of stream beats and memory words for g++ C simulation (not for synthesis).
//
// Files hold one word per line in hex, most significant digit first (the $readmemh format written by
// flow.packing.write_memh), so the same files feed the RTL memories and the C simulation.
#ifndef SIGNFLOW_CSIM_IO_H
#define SIGNFLOW_CSIM_IO_H

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <ap_int.h>
#include <hls_stream.h>

namespace signflow_csim {

template <int W>
ap_uint<W> parse_hex(const std::string &text) {
    ap_uint<W> word = 0;
    for (char ch : text) {
        int digit;
        if (ch >= '0' && ch <= '9') digit = ch - '0';
        else if (ch >= 'a' && ch <= 'f') digit = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F') digit = ch - 'A' + 10;
        else continue;
        word = (word << 4) | ap_uint<W>(digit);
    }
    return word;
}

template <int W>
std::string format_hex(const ap_uint<W> &word) {
    const int digits = (W + 3) / 4;
    std::string text(digits, '0');
    for (int d = 0; d < digits; d++) {
        const int low = 4 * d, high = low + 3 < W ? low + 3 : W - 1;
        const unsigned nibble = word.range(high, low).to_uint();
        text[digits - 1 - d] = "0123456789abcdef"[nibble];
    }
    return text;
}

// All words of a hex file; exits when the file is missing.
template <int W>
std::vector<ap_uint<W>> read_words(const std::string &path) {
    std::ifstream file(path);
    if (!file) {
        std::fprintf(stderr, "cannot open %s\n", path.c_str());
        std::exit(2);
    }
    std::vector<ap_uint<W>> words;
    std::string line;
    while (std::getline(file, line))
        if (!line.empty()) words.push_back(parse_hex<W>(line));
    return words;
}

// Fill an array of `count` words from a hex file (missing words stay zero).
template <int W>
void load_memory(const std::string &path, ap_uint<W> *memory, unsigned count) {
    const std::vector<ap_uint<W>> words = read_words<W>(path);
    for (unsigned i = 0; i < count; i++) memory[i] = i < words.size() ? words[i] : ap_uint<W>(0);
}

// memory[lane * count + i] = lane `lane` (W bits, lane 0 at the LSB) of word i of a hex file of LANES*W-bit
// words: a [LANES][count] array split by lane, as the HLS ops take their per-PE memories.
template <int W, int LANES>
void load_lanes(const std::string &path, ap_uint<W> *memory, unsigned count) {
    const std::vector<ap_uint<W * LANES> > words = read_words<W * LANES>(path);
    for (unsigned lane = 0; lane < LANES; lane++)
        for (unsigned i = 0; i < count; i++)
            memory[lane * count + i] = i < words.size() ? ap_uint<W>(words[i].range(lane * W + W - 1, lane * W)) : ap_uint<W>(0);
}

template <int W>
void feed(const std::string &path, hls::stream<ap_uint<W>> &stream) {
    for (const ap_uint<W> &word : read_words<W>(path)) stream.write(word);
}

// Drain a stream into a hex file; returns the number of beats.
template <int W>
unsigned drain(hls::stream<ap_uint<W>> &stream, const std::string &path) {
    std::ofstream file(path);
    unsigned beats = 0;
    while (!stream.empty()) {
        file << format_hex<W>(stream.read()) << "\n";
        beats++;
    }
    return beats;
}

// Taps: the generated top logs each layer's output stream after the layer's call (one frame) when a
// folder is set, one "<frame> <hex word>" line per beat in <folder>/<layer>.txt.
inline std::string &taps_dir() {
    static std::string dir;
    return dir;
}
inline unsigned &tap_frame() {
    static unsigned frame = 0;
    return frame;
}

template <int W>
void tap(const hls::stream<ap_uint<W> > &stream, const char *name) {
    if (taps_dir().empty()) return;
    std::ofstream file(taps_dir() + "/" + name + ".txt", std::ios::app);
    for (const ap_uint<W> &word : stream.contents()) file << tap_frame() << " " << format_hex<W>(word) << "\n";
}

}  // namespace signflow_csim

#endif
