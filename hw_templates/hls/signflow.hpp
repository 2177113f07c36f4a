// signflow.hpp: umbrella header of the signflow HLS operators (Vitis HLS C++ on hls::stream<ap_uint<W>>).
//
// Each operator is a function template over a config struct with compilable defaults
// (signflow::mvau_config, ...); per-layer code derives a struct and overrides constants only:
//   struct layer0_config : signflow::mvau_config { static const int MW = 27; ... };
//   signflow::mvau<layer0_config>(in, out, layer0_weights, layer0_thresholds);
// Each call processes one frame. Stream beats and memory words follow hw_templates/rtl/README.md and
// flow/packing.py, so the RTL cores and these functions consume and produce the same data.
// C simulation with g++: -I hw_templates/hls/sim (before the ap_types directory, whose hls_stream.h
// would otherwise be found) -I hw_templates/hls -I <ap_types>.
#ifndef SIGNFLOW_HPP
#define SIGNFLOW_HPP

#include "signflow_common.hpp"
#include "mvau.hpp"
#include "sliding_window.hpp"
#include "maxpool.hpp"
#include "pixel_threshold.hpp"
#include "label_select.hpp"
#include "dynamic_threshold.hpp"
#include "width_converter.hpp"

#endif
