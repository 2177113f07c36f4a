// Language: SystemVerilog 2017
`default_nettype none
// axis_batch_last: carries batch ends (TLAST) around a frame-in, frame-out accelerator that has no TLAST.
//
// The accelerator maps each input frame of IN_BEATS beats to one output frame of OUT_BEATS beats, in
// order. A frame's flag is the OR of s_axis_tlast over its beats (a TLAST anywhere in a frame ends the
// batch at that frame). The flag is pushed into a FIFO of DEPTH flags on the handshake of the frame's
// last input beat and popped on the handshake of the matching output frame's last beat;
// m_axis_tlast = (output beat == OUT_BEATS - 1) && head flag, meaningful while m_axis_tvalid.
//
// Structure: data, valid and ready pass through without registers (s_axis -> acc_in, acc_out ->
// m_axis). While the flag FIFO is full (DEPTH whole frames in flight, whose outputs need no more
// input) the input is held: acc_in_tvalid = 0 and s_axis_tready = 0. acc_in_tvalid depends on
// s_axis_tvalid and registers only; s_axis_tready on acc_in_tready and registers only.
module axis_batch_last #(
    parameter int unsigned IN_W = 8,       // bits per input beat; >= 1
    parameter int unsigned OUT_W = 8,      // bits per output beat; >= 1
    parameter int unsigned IN_BEATS = 1,   // beats per input frame; >= 1
    parameter int unsigned OUT_BEATS = 1,  // beats per output frame; >= 1
    parameter int unsigned DEPTH = 64      // frames in flight (flags stored); a power of two >= 2
) (
    input  wire logic             ap_clk,
    input  wire logic             ap_rst_n,
    // outer input stream (e.g. from a DMA's MM2S), TLAST on a batch's last beat
    input  wire logic [IN_W-1:0]  s_axis_tdata,
    input  wire logic             s_axis_tvalid,
    output logic                  s_axis_tready,
    input  wire logic             s_axis_tlast,
    // to the accelerator's input
    output logic      [IN_W-1:0]  acc_in_tdata,
    output logic                  acc_in_tvalid,
    input  wire logic             acc_in_tready,
    // from the accelerator's output
    input  wire logic [OUT_W-1:0] acc_out_tdata,
    input  wire logic             acc_out_tvalid,
    output logic                  acc_out_tready,
    // outer output stream (e.g. to a DMA's S2MM), TLAST on the batch's last output beat
    output logic      [OUT_W-1:0] m_axis_tdata,
    output logic                  m_axis_tvalid,
    input  wire logic             m_axis_tready,
    output logic                  m_axis_tlast
);
  localparam int unsigned AW = $clog2(DEPTH);
  localparam int unsigned IB = IN_BEATS > 1 ? $clog2(IN_BEATS) : 1;    // bits of the input beat count
  localparam int unsigned OB = OUT_BEATS > 1 ? $clog2(OUT_BEATS) : 1;  // bits of the output beat count

  initial begin
    if (IN_W < 1 || OUT_W < 1) $error("IN_W and OUT_W must be >= 1 (instance %m)");
    if (IN_BEATS < 1 || OUT_BEATS < 1) $error("IN_BEATS and OUT_BEATS must be >= 1 (instance %m)");
    if (DEPTH < 2 || (DEPTH & (DEPTH - 1)) != 0) $error("DEPTH must be a power of two >= 2 (instance %m)");
  end

  logic [IB-1:0] in_beat_reg;       // beat within the current input frame
  logic [OB-1:0] out_beat_reg;      // beat within the current output frame
  logic in_flag_reg;                // OR of s_axis_tlast over the current input frame's earlier beats
  logic [DEPTH-1:0] flag_mem;       // flags of the frames in flight
  logic [AW:0] wr_ptr_reg, rd_ptr_reg;  // one extra bit tells full from empty

  wire logic full = wr_ptr_reg == {~rd_ptr_reg[AW], rd_ptr_reg[AW-1:0]};
  wire logic in_last_beat = 32'(in_beat_reg) == IN_BEATS - 1;
  wire logic out_last_beat = 32'(out_beat_reg) == OUT_BEATS - 1;

  // input side: pass through, held while the flag FIFO is full
  assign acc_in_tdata = s_axis_tdata;
  assign acc_in_tvalid = s_axis_tvalid && !full;
  assign s_axis_tready = acc_in_tready && !full;
  wire logic in_accept = s_axis_tvalid && s_axis_tready;
  wire logic push = in_accept && in_last_beat;
  wire logic frame_flag = in_flag_reg || s_axis_tlast;

  // output side: pass through, TLAST on a flagged frame's last beat
  assign m_axis_tdata = acc_out_tdata;
  assign m_axis_tvalid = acc_out_tvalid;
  assign acc_out_tready = m_axis_tready;
  assign m_axis_tlast = out_last_beat && flag_mem[rd_ptr_reg[AW-1:0]];
  wire logic out_accept = acc_out_tvalid && m_axis_tready;
  wire logic pop = out_accept && out_last_beat;

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      in_beat_reg <= '0;
      out_beat_reg <= '0;
      in_flag_reg <= 1'b0;
      wr_ptr_reg <= '0;
      rd_ptr_reg <= '0;
    end else begin
      if (in_accept) begin
        in_beat_reg <= in_last_beat ? '0 : in_beat_reg + 1'b1;
        in_flag_reg <= in_last_beat ? 1'b0 : frame_flag;
      end
      if (out_accept) out_beat_reg <= out_last_beat ? '0 : out_beat_reg + 1'b1;
      if (push) wr_ptr_reg <= wr_ptr_reg + 1'b1;
      if (pop) rd_ptr_reg <= rd_ptr_reg + 1'b1;
    end
  end

  always_ff @(posedge ap_clk) begin
    if (push) flag_mem[wr_ptr_reg[AW-1:0]] <= frame_flag;
  end
endmodule
`default_nettype wire
