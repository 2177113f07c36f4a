// Language: SystemVerilog 2017
`default_nettype none
// dynamic_threshold_requant: power-of-two rescale with round-half-to-even, then clip (combinational).
//
// out = clip(shift_round(in, SHIFT), LO, HI), where shift_round(x, s) = x * 2^s for s >= 0 and
// round(x / 2^-s) with ties to even for s < 0 (flow/ops/dynamic_threshold.py: shift_round).
// With k = -s > 0: floor = x >>> k, rest = x mod 2^k; round up when rest > 2^(k-1), or when
// rest == 2^(k-1) and floor is odd. in and out are signed two's complement.
module dynamic_threshold_requant #(
    parameter int unsigned IN_BITS  = 16,   // bits of the signed input; >= 1
    parameter int          SHIFT    = -4,   // power-of-two scale of the rescale; -40 <= SHIFT <= 40
    parameter int          LO       = -128, // clip minimum; LO <= HI, representable in OUT_BITS signed bits
    parameter int          HI       = 127,  // clip maximum
    parameter int unsigned OUT_BITS = 8     // bits of the signed output; >= 1
) (
    input  wire logic signed [ IN_BITS-1:0] in_value,
    output logic signed      [OUT_BITS-1:0] out_value
);
  localparam int unsigned LEFT = SHIFT > 0 ? SHIFT : 0;  // left shift
  localparam int unsigned RIGHT = SHIFT < 0 ? -SHIFT : 0;  // right shift with rounding
  // working width: holds in << LEFT, and keeps two sign bits above the RIGHT dropped bits
  localparam int unsigned XB = IN_BITS + LEFT + RIGHT + 2;
  // comparison width: the working value and the 32-bit clip bounds, both sign-extended
  localparam int unsigned CB = (XB > 32 ? XB : 32) + 1;
  localparam logic signed [CB-1:0] LO_WIDE = CB'(LO);
  localparam logic signed [CB-1:0] HI_WIDE = CB'(HI);
  localparam logic signed [OUT_BITS-1:0] LO_OUT = OUT_BITS'(LO);
  localparam logic signed [OUT_BITS-1:0] HI_OUT = OUT_BITS'(HI);

  initial begin
    if (IN_BITS < 1) $error("IN_BITS must be >= 1 (instance %m)");
    if (SHIFT < -40 || SHIFT > 40) $error("SHIFT must be in [-40, 40] (instance %m)");
    if (LO > HI) $error("LO must be <= HI (instance %m)");
    if (OUT_BITS < 31 && (LO < -(1 <<< (OUT_BITS - 1)) || HI >= (1 <<< (OUT_BITS - 1))))
      $error("[LO, HI] must fit OUT_BITS signed bits (instance %m)");
  end

  wire logic signed [XB-1:0] scaled = XB'(in_value) <<< LEFT;  // in * 2^LEFT, exact
  logic signed [XB-1:0] base;  // the rounded value is base + round_up
  logic round_up;

  if (RIGHT == 0) begin : g_no_round
    assign base = scaled;
    assign round_up = 1'b0;
  end else begin : g_round
    wire logic [RIGHT-1:0] rest = scaled[RIGHT-1:0];
    assign base = scaled >>> RIGHT;  // floor
    if (RIGHT == 1) begin : g_half
      assign round_up = rest[0] && base[0];  // exactly half: to even
    end else begin : g_wide
      // above half, or exactly half with an odd floor
      assign round_up = rest[RIGHT-1] && (|rest[RIGHT-2:0] || base[0]);
    end
  end

  // The clip is decided on base, beside the rounding increment rather than after it (timing):
  // base + round_up < LO exactly when base < LO, unless base = LO - 1 rounds up; likewise above HI.
  wire logic signed [CB-1:0] wide = CB'(base);
  wire logic below = wide < LO_WIDE && !(round_up && wide == LO_WIDE - 1);
  wire logic above = wide > HI_WIDE || (round_up && wide == HI_WIDE);
  assign out_value = below ? LO_OUT : above ? HI_OUT : OUT_BITS'(base) + OUT_BITS'(round_up);
endmodule
`default_nettype wire
