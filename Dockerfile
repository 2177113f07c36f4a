# signflow: the open flow (training, build, Verilator and g++ simulation, Yosys estimate) in one image.
# The vendor tools are not in it: the `vivado` service of docker-compose.yml mounts your Xilinx install.
FROM python:3.11-slim-bookworm
# g++/make: C simulation and Verilator builds; yosys: synth_estimate;
# libtinfo5, libx11-6, locales: what Vitis HLS / Vivado need from the system when mounted in
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ make yosys libtinfo5 libx11-6 locales \
    && sed -i 's/# en_US.UTF-8/en_US.UTF-8/' /etc/locale.gen && locale-gen \
    && rm -rf /var/lib/apt/lists/*
ENV LANG=en_US.UTF-8
WORKDIR /opt/signflow
COPY . .
RUN make .venv/.installed && .venv/bin/python -m pip install -q -e '.[notebooks]'
ENV PATH=/opt/signflow/.venv/bin:$PATH
WORKDIR /work
ENTRYPOINT ["/opt/signflow/docker/entrypoint.sh"]
CMD ["signflow", "--help"]
