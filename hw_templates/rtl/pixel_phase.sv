// Language: SystemVerilog 2017
`default_nettype none
// pixel_phase: the DeSign threshold phase of the current pixel of a frame, counted without division.
//
// For pixel (h, w) of an H x W frame, taken row-major, phase = (h mod PERIOD_H) * PERIOD_W + (w mod PERIOD_W).
// `advance` moves to the next pixel (after the last pixel of a frame: back to the first). `phase` is the
// current pixel's (registered); `next_phase` the one `advance` moves to (combinational), for users that
// register an address from it. Shared by mvau and pixel_threshold.
module pixel_phase #(
    parameter int unsigned H = 1,         // pixel rows per frame; >= 1
    parameter int unsigned W = 1,         // pixel columns per frame; >= 1
    parameter int unsigned PERIOD_H = 1,  // rows of the threshold period; >= 1
    parameter int unsigned PERIOD_W = 1,  // columns of the threshold period; >= 1
    // bits of a phase; the default holds 0 .. PERIOD_H * PERIOD_W - 1
    parameter int unsigned PB = PERIOD_H * PERIOD_W > 1 ? $clog2(PERIOD_H * PERIOD_W) : 1
) (
    input  wire logic          ap_clk,
    input  wire logic          ap_rst_n,
    input  wire logic          advance,
    output logic      [PB-1:0] phase,
    output logic      [PB-1:0] next_phase
);
  localparam int unsigned P = PERIOD_H * PERIOD_W;
  localparam int unsigned WB = W > 1 ? $clog2(W) : 1;
  localparam int unsigned HB = H > 1 ? $clog2(H) : 1;
  localparam int unsigned PWB = PERIOD_W > 1 ? $clog2(PERIOD_W) : 1;

  initial begin
    if (H < 1 || W < 1) $error("H and W must be >= 1 (instance %m)");
    if (PERIOD_H < 1 || PERIOD_W < 1) $error("PERIOD_H and PERIOD_W must be >= 1 (instance %m)");
    if (P > 1 && PB < $clog2(P)) $error("PB must hold PERIOD_H * PERIOD_W phases (instance %m)");
  end

  logic [WB-1:0] w_reg;          // pixel column
  logic [HB-1:0] h_reg;          // pixel row
  logic [PWB-1:0] pw_reg;        // w mod PERIOD_W
  logic [PB-1:0] row_phase_reg;  // (h mod PERIOD_H) * PERIOD_W
  logic [PB-1:0] next_row_phase;

  always_comb begin
    next_row_phase = 32'(row_phase_reg) + PERIOD_W == P ? '0 : PB'(32'(row_phase_reg) + PERIOD_W);
    if (32'(w_reg) != W - 1) next_phase = 32'(pw_reg) == PERIOD_W - 1 ? row_phase_reg : phase + 1'b1;
    else if (32'(h_reg) != H - 1) next_phase = next_row_phase;
    else next_phase = '0;
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      w_reg <= '0;
      h_reg <= '0;
      pw_reg <= '0;
      row_phase_reg <= '0;
      phase <= '0;
    end else if (advance) begin
      phase <= next_phase;
      if (32'(w_reg) != W - 1) begin
        w_reg <= w_reg + 1'b1;
        pw_reg <= 32'(pw_reg) == PERIOD_W - 1 ? '0 : pw_reg + 1'b1;
      end else begin
        w_reg <= '0;
        pw_reg <= '0;
        h_reg <= 32'(h_reg) == H - 1 ? '0 : h_reg + 1'b1;
        row_phase_reg <= 32'(h_reg) == H - 1 ? '0 : next_row_phase;
      end
    end
  end
endmodule

`default_nettype wire
