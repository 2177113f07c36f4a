// Language: SystemVerilog 2017
`default_nettype none
// pixel_threshold: per-channel, per-pixel-phase thresholding of an NHWC accumulator stream into bits.
//
// out[h, w, c] = acc[h, w, c] >= thr[c, phase], phase = (h mod PERIOD_H) * PERIOD_W + (w mod PERIOD_W),
// signed comparison; PERIOD_H = PERIOD_W = 1 is a plain per-channel threshold (sign, folded BatchNorm).
// Before a POOL_H x POOL_W OR pool the phase is the pooled pixel's: h / POOL_H and w / POOL_W replace h
// and w (pixel_phase).
//
// Layout: an input beat holds PE signed ACC_BITS accumulators, channels cf*PE .. cf*PE+PE-1 of one
// pixel (lane p at bits [p*ACC_BITS +: ACC_BITS]); C/PE beats per pixel, H x W pixels per frame,
// row-major. An output beat holds the PE result bits, lane p at bit p. The threshold memory is
// THRESHOLDS_FILE ($readmemh), C/PE * P words of PE * ACC_BITS bits, P = PERIOD_H * PERIOD_W: word
// cf*P + phase, lane p holds thr[cf*PE + p, phase] (flow.packing.mvau_threshold_words).
//
// Structure: the word address follows the stream with counters (no division). Two pipeline stages,
// a registered memory read (BRAM/LUTRAM with enable) then the registered comparison; one beat per
// cycle, H * W * C / PE cycles per frame, and s_axis_tready = the first stage can take a beat.
module pixel_threshold #(
    parameter int unsigned H = 1,            // pixel rows per frame; >= 1
    parameter int unsigned W = 1,            // pixel columns per frame; >= 1
    parameter int unsigned C = 8,            // channels; a multiple of PE
    parameter int unsigned PE = 1,           // channels per beat; divides C
    parameter int unsigned ACC_BITS = 16,    // bits of a signed accumulator and of a threshold; >= 1
    parameter int unsigned PERIOD_H = 1,     // rows of the threshold period; >= 1
    parameter int unsigned PERIOD_W = 1,     // columns of the threshold period; >= 1
    parameter int unsigned POOL_H = 1,       // rows of the OR pool that follows (phase per pooled pixel); >= 1
    parameter int unsigned POOL_W = 1,       // columns of the OR pool that follows; >= 1
    // $readmemh file of the threshold words; required. A string, left untyped so that every tool reads it.
    parameter THRESHOLDS_FILE = ""
) (
    input  wire logic                   ap_clk,
    input  wire logic                   ap_rst_n,
    // input stream: PE signed accumulators of one pixel
    input  wire logic [PE*ACC_BITS-1:0] s_axis_tdata,
    input  wire logic                   s_axis_tvalid,
    output logic                        s_axis_tready,
    // output stream: PE bits, 1 where acc >= threshold
    output logic      [PE-1:0]          m_axis_tdata,
    output logic                        m_axis_tvalid,
    input  wire logic                   m_axis_tready
);
  localparam int unsigned CF = C / PE;                 // beats per pixel
  localparam int unsigned P = PERIOD_H * PERIOD_W;     // phases
  localparam int unsigned DEPTH = CF * P;              // threshold words
  localparam int unsigned WORD = PE * ACC_BITS;        // bits per threshold word
  // bits of the counters (a counter of 0 .. n-1 takes max(1, clog2(n)) bits)
  localparam int unsigned AB = DEPTH > 1 ? $clog2(DEPTH) : 1;
  localparam int unsigned CFB = CF > 1 ? $clog2(CF) : 1;
  localparam int unsigned PB = P > 1 ? $clog2(P) : 1;

  initial begin
    if (PE < 1 || C < 1 || C % PE != 0) $error("C must be a positive multiple of PE >= 1 (instance %m)");
    if (ACC_BITS < 1) $error("ACC_BITS must be >= 1 (instance %m)");
    if (THRESHOLDS_FILE == "") $error("THRESHOLDS_FILE must name the threshold memory file (instance %m)");
  end

  logic [WORD-1:0] thr_mem[DEPTH];
  initial begin
    if (THRESHOLDS_FILE != "") $readmemh(THRESHOLDS_FILE, thr_mem);
  end

  // ---- position of the current input beat: channel fold, and the pixel's phase (pixel_phase)
  logic [CFB-1:0] cf_reg;      // channel fold
  logic [AB-1:0] addr_reg;     // cf * P + phase: the threshold word of the current beat
  logic [PB-1:0] next_phase;   // phase of the pixel after the current one
  logic [PB-1:0] phase_unused;
  wire logic last_cf = 32'(cf_reg) == CF - 1;

  // ---- pipeline: stage 1 holds the accumulators and their thresholds, stage 2 is the output
  logic stage1_valid_reg;
  logic [WORD-1:0] acc_reg, thr_reg;
  logic m_valid_reg;
  logic [PE-1:0] m_data_reg;

  wire logic load2 = !m_valid_reg || m_axis_tready;   // the output register can take a result
  wire logic load1 = !stage1_valid_reg || load2;      // stage 1 can take a beat
  wire logic accept = s_axis_tvalid && load1;

  assign s_axis_tready = load1;
  assign m_axis_tvalid = m_valid_reg;
  assign m_axis_tdata = m_data_reg;

  pixel_phase #(
      .H(H),
      .W(W),
      .PERIOD_H(PERIOD_H),
      .PERIOD_W(PERIOD_W),
      .POOL_H(POOL_H),
      .POOL_W(POOL_W)
  ) u_phase (
      .ap_clk(ap_clk),
      .ap_rst_n(ap_rst_n),
      .advance(accept && last_cf),
      .phase(phase_unused),
      .next_phase(next_phase)
  );

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      cf_reg <= '0;
      addr_reg <= '0;
    end else if (accept) begin
      if (!last_cf) begin
        cf_reg <= cf_reg + 1'b1;
        addr_reg <= AB'(32'(addr_reg) + P);
      end else begin  // next pixel
        cf_reg <= '0;
        addr_reg <= AB'(next_phase);
      end
    end
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      stage1_valid_reg <= 1'b0;
      m_valid_reg <= 1'b0;
    end else begin
      if (load1) stage1_valid_reg <= s_axis_tvalid;
      if (load2) m_valid_reg <= stage1_valid_reg;
    end
  end

  // memory read with enable: maps to a block RAM output register
  always_ff @(posedge ap_clk) begin
    if (accept) begin
      thr_reg <= thr_mem[addr_reg];
      acc_reg <= s_axis_tdata;
    end
  end

  always_ff @(posedge ap_clk) begin
    if (load2 && stage1_valid_reg) begin
      for (int unsigned p = 0; p < PE; p++) begin
        m_data_reg[p] <= $signed(acc_reg[p*ACC_BITS+:ACC_BITS]) >= $signed(thr_reg[p*ACC_BITS+:ACC_BITS]);
      end
    end
  end
endmodule
`default_nettype wire
