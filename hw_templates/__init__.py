"""Hardware templates (RTL, HLS, simulation harness, TCL, PYNQ driver), package data read by signflow.templates."""
