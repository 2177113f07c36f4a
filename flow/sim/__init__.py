"""Simulation and comparison: the qonnx reference executor, the batch executor, Verilator, g++, the simulated board."""
