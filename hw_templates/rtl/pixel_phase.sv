// Language: SystemVerilog 2017
`default_nettype none
// pixel_phase: the DeSign threshold phase of the current pixel of a frame, counted without division.
//
// For pixel (h, w) of an H x W frame, taken row-major,
//   phase = ((h / POOL_H) mod PERIOD_H) * PERIOD_W + ((w / POOL_W) mod PERIOD_W),
// the phase of the pooled pixel (h / POOL_H, w / POOL_W) when a POOL_H x POOL_W OR pool follows the
// threshold (POOL_H = POOL_W = 1: the pixel's own phase). `advance` moves to the next pixel (after the last
// pixel of a frame: back to the first). `phase` is the current pixel's (registered); `next_phase` the one
// `advance` moves to (combinational), for users that register an address from it. Shared by mvau and
// pixel_threshold. The pool costs a sub-counter per axis (w mod POOL_W, h mod POOL_H); the period
// counters step when they wrap.
module pixel_phase #(
    parameter int unsigned H = 1,         // pixel rows per frame; >= 1
    parameter int unsigned W = 1,         // pixel columns per frame; >= 1
    parameter int unsigned PERIOD_H = 1,  // rows of the threshold period; >= 1
    parameter int unsigned PERIOD_W = 1,  // columns of the threshold period; >= 1
    parameter int unsigned POOL_H = 1,    // rows of a pooled pixel (pool window); >= 1
    parameter int unsigned POOL_W = 1,    // columns of a pooled pixel (pool window); >= 1
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
  localparam int unsigned QWB = POOL_W > 1 ? $clog2(POOL_W) : 1;
  localparam int unsigned QHB = POOL_H > 1 ? $clog2(POOL_H) : 1;

  initial begin
    if (H < 1 || W < 1) $error("H and W must be >= 1 (instance %m)");
    if (PERIOD_H < 1 || PERIOD_W < 1) $error("PERIOD_H and PERIOD_W must be >= 1 (instance %m)");
    if (POOL_H < 1 || POOL_W < 1) $error("POOL_H and POOL_W must be >= 1 (instance %m)");
    if (P > 1 && PB < $clog2(P)) $error("PB must hold PERIOD_H * PERIOD_W phases (instance %m)");
  end

  logic [WB-1:0] w_reg;          // pixel column
  logic [HB-1:0] h_reg;          // pixel row
  logic [QWB-1:0] qw_reg;        // w mod POOL_W
  logic [QHB-1:0] qh_reg;        // h mod POOL_H
  logic [PWB-1:0] pw_reg;        // (w / POOL_W) mod PERIOD_W
  logic [PB-1:0] row_phase_reg;  // ((h / POOL_H) mod PERIOD_H) * PERIOD_W
  logic [PB-1:0] next_row_phase;
  wire logic pool_col_end = 32'(qw_reg) == POOL_W - 1;  // the next column starts a pooled pixel
  wire logic pool_row_end = 32'(qh_reg) == POOL_H - 1;  // the next row starts a row of pooled pixels

  always_comb begin
    next_row_phase = 32'(row_phase_reg) + PERIOD_W == P ? '0 : PB'(32'(row_phase_reg) + PERIOD_W);
    if (32'(w_reg) != W - 1) begin
      if (!pool_col_end) next_phase = phase;
      else next_phase = 32'(pw_reg) == PERIOD_W - 1 ? row_phase_reg : phase + 1'b1;
    end else if (32'(h_reg) != H - 1) begin
      next_phase = pool_row_end ? next_row_phase : row_phase_reg;
    end else begin
      next_phase = '0;
    end
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      w_reg <= '0;
      h_reg <= '0;
      qw_reg <= '0;
      qh_reg <= '0;
      pw_reg <= '0;
      row_phase_reg <= '0;
      phase <= '0;
    end else if (advance) begin
      phase <= next_phase;
      if (32'(w_reg) != W - 1) begin
        w_reg <= w_reg + 1'b1;
        qw_reg <= pool_col_end ? '0 : qw_reg + 1'b1;
        if (pool_col_end) pw_reg <= 32'(pw_reg) == PERIOD_W - 1 ? '0 : pw_reg + 1'b1;
      end else begin
        w_reg <= '0;
        qw_reg <= '0;
        pw_reg <= '0;
        if (32'(h_reg) == H - 1) begin
          h_reg <= '0;
          qh_reg <= '0;
          row_phase_reg <= '0;
        end else begin
          h_reg <= h_reg + 1'b1;
          qh_reg <= pool_row_end ? '0 : qh_reg + 1'b1;
          if (pool_row_end) row_phase_reg <= next_row_phase;
        end
      end
    end
  end
endmodule

`default_nettype wire
