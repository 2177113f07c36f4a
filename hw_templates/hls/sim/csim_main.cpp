// csim_main.cpp: g++ C-simulation testbench of a generated signflow HLS top (not synthesized).
//
// Compiled with -DSIGNFLOW_GXX_CSIM and -include <top>.hpp (which defines SIGNFLOW_TOP and the port widths).
// Usage: csim <input.hex> <output.hex> <frames> [taps folder]
// Reads the input beats (hex, one per line), calls the top once per frame, fails when input is left over,
// and writes every output beat.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "signflow_csim_io.h"

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        std::fprintf(stderr, "usage: %s input.hex output.hex frames [taps_dir]\n", argv[0]);
        return 2;
    }
    const unsigned frames = std::strtoul(argv[3], nullptr, 10);
    if (argc == 5) signflow_csim::taps_dir() = argv[4];
    hls::stream<ap_uint<SIGNFLOW_IN_WIDTH> > in("s_axis_0");
    hls::stream<ap_uint<SIGNFLOW_OUT_WIDTH> > out("m_axis_0");
    signflow_csim::feed(argv[1], in);
    for (unsigned f = 0; f < frames; f++) {
        signflow_csim::tap_frame() = f;
        SIGNFLOW_TOP(in, out);
    }
    if (!in.empty()) {
        std::fprintf(stderr, "%u input beats left over after %u frames\n", unsigned(in.size()), frames);
        return 3;
    }
    signflow_csim::drain(out, argv[2]);
    return 0;
}
