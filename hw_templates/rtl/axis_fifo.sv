// Language: SystemVerilog 2017
`default_nettype none
// axis_fifo: a synchronous AXI4-Stream FIFO of DEPTH words.
//
// Beats leave in the order they arrive. s_axis_tready is high while fewer than
// DEPTH words are stored; m_axis_tvalid while at least one is. The output is
// registered from the storage (first-word fall-through), so one beat per
// cycle flows when both sides are ready. Storage maps to LUTRAM or BRAM.
module axis_fifo #(
    parameter int unsigned WIDTH = 8,  // bits per beat; >= 1
    parameter int unsigned DEPTH = 16  // words stored; a power of two >= 2
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

  wire logic empty = wr_ptr_reg == rd_ptr_reg;
  wire logic full = wr_ptr_reg == {~rd_ptr_reg[AW], rd_ptr_reg[AW-1:0]};
  wire logic push = s_axis_tvalid && s_axis_tready;
  wire logic pop = m_axis_tvalid && m_axis_tready;

  assign s_axis_tready = !full;
  assign m_axis_tvalid = !empty;
  assign m_axis_tdata = mem[rd_ptr_reg[AW-1:0]];

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      wr_ptr_reg <= '0;
      rd_ptr_reg <= '0;
    end else begin
      if (push) wr_ptr_reg <= wr_ptr_reg + 1'b1;
      if (pop) rd_ptr_reg <= rd_ptr_reg + 1'b1;
    end
  end

  always_ff @(posedge ap_clk) begin
    if (push) mem[wr_ptr_reg[AW-1:0]] <= s_axis_tdata;
  end
endmodule
`default_nettype wire
