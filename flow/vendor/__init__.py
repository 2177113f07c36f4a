"""Vendor and synthesis tools run by the build: Yosys, Vitis HLS, Vivado (each skips its step with a note when absent)."""
