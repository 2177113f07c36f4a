// Language: SystemVerilog 2017
`default_nettype none
// mvau_dot: one PE's share of an mvau step, the dot product of SIMD inputs with SIMD weight bits.
//
//   SGN 0 (binary bits x):    sum = sum_i xnor(x[i], w[i])                (unsigned, the step's popcount)
//   SGN 1 (signed IN_BITS x): sum = sum_i (w[i] ? x[i] : -x[i])           (signed)
// Leaves are combinational from `x` and `w`; a pairwise adder tree of LEVELS = max(1, clog2(SIMD)) registered
// levels, all advancing with `en`, gives `sum` LEVELS enabled cycles later. SIMD = 1 keeps one level (a
// register of the leaf): the accumulator then adds from a register, not from the weight memory's read port
// (an ECP5 block RAM's output is too slow for a carry chain behind it at 100 MHz). Every PE of an
// mvau is one instance with the same parameters, so synthesis maps it once (flow/vendor/yosys.py).
module mvau_dot #(
    parameter int unsigned SIMD    = 4,  // inputs per step; >= 1
    parameter int unsigned IN_BITS = 1,  // bits per input; 1 when SGN = 0
    parameter int unsigned SGN     = 0,  // 0: binary inputs (XNOR-popcount); 1: signed integer inputs
    // derived: registered levels, and the width of `sum`
    parameter int unsigned LEVELS  = SIMD > 1 ? $clog2(SIMD) : 1,
    parameter int unsigned TW      = (SGN != 0 ? IN_BITS + 1 : 1) + LEVELS
) (
    input  wire logic                    ap_clk,
    input  wire logic                    en,
    input  wire logic [SIMD*IN_BITS-1:0] x,
    input  wire logic [        SIMD-1:0] w,
    output logic      [          TW-1:0] sum
);
  localparam int unsigned W0 = SGN != 0 ? IN_BITS + 1 : 1;  // leaf width: xnor bit, or +-x

  initial begin
    if (SIMD < 1 || IN_BITS < 1) $error("SIMD and IN_BITS must be >= 1 (instance %m)");
    if (SGN == 0 && IN_BITS != 1) $error("IN_BITS must be 1 for binary inputs (instance %m)");
  end

  // level l holds ceil(SIMD / 2^l) values of W0 + l bits (zero-extended popcounts or signed sums)
  for (genvar l = 0; l <= LEVELS; l++) begin : g_lvl
    localparam int unsigned N = (SIMD + (1 << l) - 1) >> l;  // values at this level
    localparam int unsigned W = W0 + l;  // their width
    localparam int unsigned NP = ((SIMD << 1) + (1 << l) - 1) >> l;  // values at level l - 1 (l >= 1)
    for (genvar i = 0; i < N; i++) begin : g_n
      logic [W-1:0] v;
      if (l == 0) begin : g_leaf
        if (SGN != 0) begin : g_int
          // weight 1 -> +x, 0 -> -x; IN_BITS + 1 bits hold -(-2^(IN_BITS-1))
          wire logic [W-1:0] xi = W'($signed(x[i*IN_BITS+:IN_BITS]));
          assign v = w[i] ? xi : -xi;
        end else begin : g_bin
          assign v = ~(x[i] ^ w[i]);
        end
      end else if (2 * i + 1 < NP) begin : g_pair
        wire logic [W-2:0] a = g_lvl[l-1].g_n[2*i].v;
        wire logic [W-2:0] b = g_lvl[l-1].g_n[2*i+1].v;
        always_ff @(posedge ap_clk) if (en) v <= {(SGN != 0) && a[W-2], a} + {(SGN != 0) && b[W-2], b};
      end else begin : g_pass
        wire logic [W-2:0] a = g_lvl[l-1].g_n[2*i].v;
        always_ff @(posedge ap_clk) if (en) v <= {(SGN != 0) && a[W-2], a};
      end
    end
  end
  assign sum = g_lvl[LEVELS].g_n[0].v;
endmodule
`default_nettype wire
