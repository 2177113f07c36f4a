#!/bin/sh
# Container entry: when a Xilinx install is mounted at $XILINX_DIR (the `vivado` service), put its
# Vitis HLS and Vivado of $XILINX_VERSION on PATH; then run the command.
set -e
if [ -n "$XILINX_VERSION" ]; then
    found=no
    for tool in Vitis_HLS Vitis Vivado; do
        settings="${XILINX_DIR:-/tools/Xilinx}/$tool/$XILINX_VERSION/settings64.sh"
        if [ -f "$settings" ]; then
            . "$settings"
            found=yes
        fi
    done
    if [ "$found" = no ]; then
        echo "no Xilinx tools of version $XILINX_VERSION under ${XILINX_DIR:-/tools/Xilinx}; set XILINX_HOST_DIR and XILINX_VERSION (see docker-compose.yml)" >&2
        exit 2
    fi
fi
exec "$@"
