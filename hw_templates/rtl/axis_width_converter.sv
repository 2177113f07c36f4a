// Language: SystemVerilog 2017
`default_nettype none
// axis_width_converter: re-slices a bit stream from IN_WIDTH-bit beats into OUT_WIDTH-bit beats.
//
// Output bit k of the stream is input bit k (bits LSB first within a beat, beats in order), for any
// ratio of the widths (e.g. 6 -> 4, 8 -> 3, 16 -> 64). A frame of FRAME_BITS bits is FRAME_BITS/IN_WIDTH
// input beats and FRAME_BITS/OUT_WIDTH output beats; since both divide FRAME_BITS, the bit buffer is
// empty at every frame boundary and no bit crosses from one frame's output into another's.
//
// Structure: a shift buffer of CAP = IN_WIDTH + OUT_WIDTH + max(IN_WIDTH, OUT_WIDTH) - 1 bits and a
// bit count. m_axis_tvalid = count >= OUT_WIDTH (the low OUT_WIDTH bits leave); s_axis_tready =
// count + IN_WIDTH <= CAP (the beat lands above the buffered bits). Both are registers, set from the
// next count (no compare between them and the wide buffer multiplexers they drive), and the capacity
// lets the slower side run every cycle: max(FRAME_BITS/IN_WIDTH, FRAME_BITS/OUT_WIDTH) cycles per
// frame in steady state. The pushed beat is shifted into place by the registered count (the
// pop only shifts the result by the constant OUT_WIDTH), so the handshakes only select.
module axis_width_converter #(
    parameter int unsigned IN_WIDTH = 8,     // bits per input beat; >= 1
    parameter int unsigned OUT_WIDTH = 8,    // bits per output beat; >= 1
    parameter int unsigned FRAME_BITS = 8    // bits per frame; a multiple of IN_WIDTH and of OUT_WIDTH
) (
    input  wire logic                 ap_clk,
    input  wire logic                 ap_rst_n,
    // input stream
    input  wire logic [IN_WIDTH-1:0]  s_axis_tdata,
    input  wire logic                 s_axis_tvalid,
    output logic                      s_axis_tready,
    // output stream
    output logic      [OUT_WIDTH-1:0] m_axis_tdata,
    output logic                      m_axis_tvalid,
    input  wire logic                 m_axis_tready
);
  localparam int unsigned WIDER = IN_WIDTH > OUT_WIDTH ? IN_WIDTH : OUT_WIDTH;
  localparam int unsigned CAP = IN_WIDTH + OUT_WIDTH + WIDER - 1;  // buffer bits
  localparam int unsigned CB = $clog2(CAP + 1);                    // bits of the count 0 .. CAP

  initial begin
    if (IN_WIDTH < 1 || OUT_WIDTH < 1) $error("IN_WIDTH and OUT_WIDTH must be >= 1 (instance %m)");
    if (FRAME_BITS < 1 || FRAME_BITS % IN_WIDTH != 0 || FRAME_BITS % OUT_WIDTH != 0)
      $error("FRAME_BITS must be a positive multiple of IN_WIDTH and of OUT_WIDTH (instance %m)");
  end

  logic [CAP-1:0] buf_reg;  // bits [0, count) are buffered, the rest are zero
  logic [CB-1:0] count_reg;

  assign m_axis_tdata = buf_reg[OUT_WIDTH-1:0];

  wire logic pop = m_axis_tvalid && m_axis_tready;
  wire logic push = s_axis_tvalid && s_axis_tready;

  // the buffer with the pushed beat above the buffered bits (they fit: s_axis_tready), before the pop
  wire logic [CAP-1:0] pushed = buf_reg | (CAP'(s_axis_tdata) << count_reg);
  wire logic [CAP-1:0] filled = push ? pushed : buf_reg;

  // the next count and flags for each of push / pop, from the count alone (each flag a compare of the
  // count with a constant); the handshakes only select among them (a push from a FIFO's valid would
  // otherwise start an adder and a compare)
  logic [CB-1:0] count_after[4];  // index {push, pop}
  logic ready_after[4], valid_after[4];
  for (genvar k = 0; k < 4; k++) begin : g_after
    localparam int DELTA = (k >= 2 ? IN_WIDTH : 0) - (k % 2 == 1 ? OUT_WIDTH : 0);
    localparam int READY_MAX = CAP - IN_WIDTH - DELTA;  // ready after the move iff count <= READY_MAX
    localparam int VALID_MIN = OUT_WIDTH - DELTA;       // valid after the move iff count >= VALID_MIN
    assign count_after[k] = CB'(32'(count_reg) + DELTA);
    assign ready_after[k] = READY_MAX >= 0 && 32'(count_reg) <= READY_MAX;
    assign valid_after[k] = VALID_MIN <= 0 || 32'(count_reg) >= VALID_MIN;
  end
  wire logic [1:0] move = {push, pop};

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      buf_reg <= '0;
      count_reg <= '0;
      m_axis_tvalid <= 1'b0;
      s_axis_tready <= 1'b1;  // as an empty buffer: IN_WIDTH <= CAP
    end else begin
      buf_reg <= pop ? filled >> OUT_WIDTH : filled;
      count_reg <= count_after[move];
      m_axis_tvalid <= valid_after[move];
      s_axis_tready <= ready_after[move];
    end
  end
endmodule
`default_nettype wire
