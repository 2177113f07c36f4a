// Language: SystemVerilog 2017
`default_nettype none
// rom: a constant memory with a registered read, loaded from a $readmemh file.
//
// `data` takes word `addr` at a rising edge with `en` high and holds it otherwise. BLOCK = 1 asks for block
// RAM (rom_style "block", which Vivado and Yosys honour); BLOCK = 0 leaves the choice to the tool, which maps
// a small ROM to LUTs. The flow sets BLOCK from the analytic estimate's rule (flow/ops/hw.py: memory_cost), so
// synthesis maps each memory where the estimate counted it. Shared by mvau (weights, thresholds).
module rom #(
    parameter int unsigned DEPTH = 1,  // words; >= 1
    parameter int unsigned WIDTH = 1,  // bits of a word; >= 1
    parameter int unsigned BLOCK = 0,  // 1: block RAM; 0: the tool's choice
    parameter              FILE  = "", // string: $readmemh file of the words ("" = all zero)
    parameter int unsigned AW    = DEPTH > 1 ? $clog2(DEPTH) : 1
) (
    input  wire logic             ap_clk,
    input  wire logic             en,
    input  wire logic [   AW-1:0] addr,
    output logic      [WIDTH-1:0] data
);
  initial begin
    if (DEPTH < 1 || WIDTH < 1) $error("DEPTH and WIDTH must be >= 1 (instance %m)");
    if (DEPTH > 1 && AW < $clog2(DEPTH)) $error("AW must address DEPTH words (instance %m)");
  end

  if (BLOCK != 0) begin : g_block
    (* rom_style = "block" *) logic [WIDTH-1:0] mem[DEPTH];
    initial if (FILE != "") $readmemh(FILE, mem); else for (int i = 0; i < DEPTH; i++) mem[i] = '0;
    always_ff @(posedge ap_clk) if (en) data <= mem[addr];
  end else begin : g_tool
    logic [WIDTH-1:0] mem[DEPTH];
    initial if (FILE != "") $readmemh(FILE, mem); else for (int i = 0; i < DEPTH; i++) mem[i] = '0;
    always_ff @(posedge ap_clk) if (en) data <= mem[addr];
  end
endmodule
`default_nettype wire
