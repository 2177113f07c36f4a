// Language: SystemVerilog 2017
`default_nettype none
// axis_fifo: a synchronous AXI4-Stream FIFO of DEPTH + 1 words.
//
// Beats leave in the order they arrive. DEPTH words sit in a memory that is read
// synchronously into an output register (first-word fall-through), so Yosys and
// Vivado can map the memory to block RAM (the register becomes its read port)
// or LUTRAM. The output register holds one more word: DEPTH + 1 in all, while
// s_axis_tready is high as long as the memory holds fewer than DEPTH; it is a
// register, so the producer's stall logic starts from a flip-flop, not from a
// pointer compare. Its next value needs no adder behind push or load: a load
// without a push frees a word, a push without a load fills the last free one
// exactly when the memory holds DEPTH - 1 words (a compare of the registers).
// Latency on an empty FIFO: 2 cycles (a beat accepted at one rising edge is
// written to the memory, read into the output register at the next, and
// m_axis_tvalid is high after it). The memory refills the output register in
// the cycle it is taken, so one beat per cycle flows when both sides are ready.
module axis_fifo #(
    parameter int unsigned WIDTH = 8,  // bits per beat; >= 1
    parameter int unsigned DEPTH = 16  // words in the memory; a power of two >= 2
) (
    input  wire logic             ap_clk,
    input  wire logic             ap_rst_n,
    // input stream
    input  wire logic [WIDTH-1:0] s_axis_tdata,
    input  wire logic             s_axis_tvalid,
    output logic                  s_axis_tready,
    // output stream
    output logic      [WIDTH-1:0] m_axis_tdata,
    output logic                  m_axis_tvalid,
    input  wire logic             m_axis_tready
);
  localparam int unsigned AW = $clog2(DEPTH);

  initial begin
    if (WIDTH < 1) $error("WIDTH must be >= 1 (instance %m)");
    if (DEPTH < 2 || (DEPTH & (DEPTH - 1)) != 0) $error("DEPTH must be a power of two >= 2 (instance %m)");
  end

  logic [WIDTH-1:0] mem[DEPTH];
  logic [AW:0] wr_ptr_reg, rd_ptr_reg;  // one extra bit tells full from empty
  logic [WIDTH-1:0] out_data_reg;
  logic out_valid_reg;
  logic ready_reg;  // the memory holds fewer than DEPTH words

  wire logic mem_empty = wr_ptr_reg == rd_ptr_reg;
  wire logic push = s_axis_tvalid && ready_reg;
  // read the memory when the output register is free or being taken this cycle
  wire logic load = !mem_empty && (!out_valid_reg || m_axis_tready);
  // the memory holds DEPTH - 1 words: one more push fills it
  wire logic almost_full = wr_ptr_reg + 1'b1 == {~rd_ptr_reg[AW], rd_ptr_reg[AW-1:0]};

  assign s_axis_tready = ready_reg;
  assign m_axis_tvalid = out_valid_reg;
  assign m_axis_tdata = out_data_reg;

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      wr_ptr_reg <= '0;
      rd_ptr_reg <= '0;
      out_valid_reg <= 1'b0;
      ready_reg <= 1'b1;
    end else begin
      if (push) wr_ptr_reg <= wr_ptr_reg + 1'b1;
      if (load) rd_ptr_reg <= rd_ptr_reg + 1'b1;
      if (load && !push) ready_reg <= 1'b1;
      else if (push && !load) ready_reg <= !almost_full;
      if (load) out_valid_reg <= 1'b1;
      else if (m_axis_tready) out_valid_reg <= 1'b0;
    end
  end

  // no reset on the memory and its read register, so both fit a RAM primitive; a push never meets a load
  // at the same address (that address would be both full and empty), so read-during-write needs no bypass
  always_ff @(posedge ap_clk) begin
    if (push) mem[wr_ptr_reg[AW-1:0]] <= s_axis_tdata;
    if (load) out_data_reg <= mem[rd_ptr_reg[AW-1:0]];
  end
endmodule
`default_nettype wire
