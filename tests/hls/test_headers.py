"""Each HLS header compiles alone and instantiates with its default config (hw_templates/hls)."""
import subprocess

import pytest

from signflow.tools import ap_types
from tests.hls.csim import FORMS, HLS_DIR, compile_flags

DEFAULTS = {
    "mvau.hpp": "typedef mvau_traits<mvau_config> T; hls::stream<T::in_t> i; hls::stream<T::out_t> o;"
                " T::weight_t w[mvau_config::PE][T::NF * T::SF]; T::threshold_t t[mvau_config::PE][T::NF * T::P];"
            " mvau<mvau_config>(i, o, w, t);",
    "sliding_window.hpp": "typedef sliding_window_traits<sliding_window_config> T; hls::stream<T::in_t> i;"
                          " hls::stream<T::out_t> o; T::in_t p[T::CF]; sliding_window<sliding_window_config>(i, o, p);",
    "maxpool.hpp": "typedef maxpool_traits<maxpool_config> T; hls::stream<T::word_t> i, o; maxpool<maxpool_config>(i, o);",
    "pixel_threshold.hpp": "typedef pixel_threshold_traits<pixel_threshold_config> T; hls::stream<T::in_t> i;"
                           " hls::stream<T::out_t> o; T::threshold_t t[T::CF * T::P];"
                           " pixel_threshold<pixel_threshold_config>(i, o, t);",
    "label_select.hpp": "typedef label_select_traits<label_select_config> T; hls::stream<T::in_t> i;"
                        " hls::stream<T::out_t> o; label_select<label_select_config>(i, o);",
    "dynamic_threshold.hpp": "typedef dynamic_threshold_traits<dynamic_threshold_config> T; hls::stream<T::in_t> i;"
                             " hls::stream<T::out_t> o; T::weight_t w1[T::HID * T::G], w2[T::HID * T::G];"
                             " T::threshold_t t[T::G * T::CODES]; T::dir_t d[T::G];"
                             " dynamic_threshold<dynamic_threshold_config>(i, o, w1, w2, t, d);",
    "width_converter.hpp": "typedef width_converter_traits<width_converter_config> T; hls::stream<T::in_t> i;"
                           " hls::stream<T::out_t> o; width_converter<width_converter_config>(i, o);",
}


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("header", list(DEFAULTS))
def test_header_compiles_alone(header, form, tmp_path):
    source = tmp_path / "unit.cpp"
    source.write_text(f'#include "{header}"\nusing namespace signflow;\nvoid top() {{ {DEFAULTS[header]} }}\n')
    # ap_types as a system directory: its own warnings are not ours (-I dirs still come first)
    flags = [f"-isystem{ap_types()}" if flag == f"-I{ap_types()}" else flag
             for flag in compile_flags(form) if flag != "-w"]
    result = subprocess.run([*flags, "-fsyntax-only", "-Wall", "-Wno-unknown-pragmas", "-Wno-unused-label",
                             str(source)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    assert str(HLS_DIR) not in result.stderr, result.stderr[-4000:]  # no warnings from our headers


def test_umbrella_header_lists_every_op():
    umbrella = (HLS_DIR / "signflow.hpp").read_text()
    assert all(f'#include "{header}"' in umbrella for header in DEFAULTS)
