// Language: SystemVerilog 2017
`default_nettype none
// dynamic_threshold: DySign's dynamic threshold unit (golden model: flow/ops/dynamic_threshold.py).
//
// Per frame of H*W pixels and C channels, with shift_round and clip as in dynamic_threshold_requant:
//   S[c]    = sum_{h,w} acc[h,w,c]
//   q[c]    = clip(shift_round(S[c], STAT_SHIFT), Q_MIN, Q_MAX)
//   r[j]    = clip(shift_round(max(sum_c q[c] * W1[c,j], 0), R_SHIFT), R_MIN, R_MAX)
//   u[c]    = clip(shift_round(sum_j r[j] * W2[j,c], U_SHIFT), U_MIN, U_MAX),  code[c] = u[c] - U_MIN
//   out[h,w,c] = DIR[c] * acc[h,w,c] >= THR[c, code[c]]
// Stream layout: NHWC, PE channels per beat, G = C/PE beats per pixel, F = H*W*G beats per frame.
// Input lane p of a beat is a signed ACC_BITS accumulator at bits [p*ACC_BITS +: ACC_BITS]; output
// lane p is one bit at bit p.
//
// Dataflow. The fill side writes every beat to a two-frame buffer (frame k in bank k%2) and adds it
// to the running channel sums; the frame's last pixel writes q (not S) to a q bank. The MLP
// sequencer then runs HID+1 passes of G cycles: pass j < HID does hidden[j] += q . W1[:, j] for PE
// channels per cycle (PE MACs); pass j+1 does v[c] += r[j] * W2[j, c] for the same PE channels
// (another PE MACs), so the two layers overlap. The last W2 pass turns v into codes, looks up the
// per-lane thresholds and stores them in a selected-threshold bank. The drain side reads the frame
// back and compares. Buffer slots are freed as they are read, so frame k+2 fills behind the drain
// of frame k: frames stream at max(F, MLP) cycles each, MLP = (HID+1)*G + 1 (the sequencer's
// HID+1 passes plus one idle cycle), within the 2*C*HID/PE budget for HID >= 2 (one over for HID = 1).
// Latency: the frame's thresholds are ready (HID+1)*G + 8 cycles after its last input beat, and
// its first output beat follows after (HID+1)*G + 11 cycles (when the output is ready and the
// drain is idle). For 100 MHz on ECP5 both MACs register their products (no multiplier output feeds
// an adder in the same cycle) and the drain compares from fabric registers into an output register.
// Input is stalled only when the buffer is full, or at a frame's last pixel while the MLP still
// reads the q bank of two frames before.
// Resources: 2*F words of PE*ACC_BITS (BRAM), 2*PE small multipliers, LUTRAM for sums and codes.
//
// Memories (layouts in flow/packing.py: dynamic_threshold_memories), all $readmemh, lane p at the LSB:
//   W1_FILE : HID*G words of PE*W_BITS; address j*G + g, lane p = W1[g*PE+p, j] (signed)
//   W2_FILE : HID*G words of PE*W_BITS; address j*G + g, lane p = W2[j, g*PE+p] (signed)
//   THR_FILE: G*CODES words of PE*(ACC_BITS+1); address g*CODES + k, lane p = T[g*PE+p, k] (signed),
//             where T = THR for DIR = +1 and T = 1 - THR for DIR = -1, clipped to
//             [-2^(ACC_BITS-1), 2^(ACC_BITS-1)]; the output bit is (acc >= T) xor NEG
//   DIR_FILE: G words of PE bits; address g, lane p = NEG[g*PE+p] = (DIR[g*PE+p] < 0)
module dynamic_threshold #(
    parameter int unsigned H          = 3,     // frame height in pixels; >= 1
    parameter int unsigned W          = 3,     // frame width in pixels; >= 1
    parameter int unsigned C          = 4,     // channels; >= 1
    parameter int unsigned PE         = 2,     // channels per beat; divides C
    parameter int unsigned ACC_BITS   = 8,     // bits of the signed input accumulator; 2..31
    parameter int unsigned HID        = 2,     // hidden width of the MLP; >= 1
    parameter int unsigned W_BITS     = 4,     // bits of the signed MLP weights W1, W2; 2..16
    parameter int unsigned SUM_BITS   = 12,    // bits of the signed channel sum S; >= ACC_BITS + clog2(H*W), <= 48
    parameter int          STAT_SHIFT = -4,    // q = clip(shift_round(S, STAT_SHIFT), Q_MIN, Q_MAX); in [-40, 16]
    parameter int          Q_MIN      = -128,  // q range, signed; Q_MIN <= Q_MAX, |Q| < 2^15
    parameter int          Q_MAX      = 127,
    parameter int          R_SHIFT    = -3,    // r = clip(shift_round(hidden, R_SHIFT), R_MIN, R_MAX); in [-40, 16]
    parameter int          R_MIN      = 0,     // r range, signed; R_MIN <= R_MAX, |R| < 2^15
    parameter int          R_MAX      = 15,
    parameter int          U_SHIFT    = -2,    // u = clip(shift_round(r @ W2, U_SHIFT), U_MIN, U_MAX); in [-40, 16]
    parameter int          U_MIN      = -8,    // u range, signed; CODES = U_MAX - U_MIN + 1 in 1..4096
    parameter int          U_MAX      = 7,
    parameter              W1_FILE    = "",    // string: $readmemh file of W1 (layout above); "" = none
    parameter              W2_FILE    = "",    // string: $readmemh file of W2
    parameter              THR_FILE   = "",    // string: $readmemh file of the thresholds T
    parameter              DIR_FILE   = ""     // string: $readmemh file of the direction bits NEG
) (
    input  wire logic                   ap_clk,
    input  wire logic                   ap_rst_n,
    // input stream: PE signed accumulators per beat
    input  wire logic [PE*ACC_BITS-1:0] s_axis_tdata,
    input  wire logic                   s_axis_tvalid,
    output logic                        s_axis_tready,
    // output stream: PE bits per beat
    output logic      [         PE-1:0] m_axis_tdata,
    output logic                        m_axis_tvalid,
    input  wire logic                   m_axis_tready
);
  // smallest signed width holding [lo, hi]
  function automatic int unsigned signed_bits(input int lo, input int hi);
    signed_bits = 32;
    for (int n = 31; n >= 1; n--) begin
      if (lo >= -(1 <<< (n - 1)) && hi < (1 <<< (n - 1))) signed_bits = n;
    end
  endfunction

  // address width of a memory of n words (at least 1 bit)
  function automatic int unsigned addr_bits(input int unsigned n);
    addr_bits = 31;
    for (int b = 30; b >= 1; b--) begin
      if (n <= (32'd1 << b)) addr_bits = b;
    end
  endfunction

  localparam int unsigned G = C / PE;  // beats (channel groups) per pixel
  localparam int unsigned HW = H * W;  // pixels per frame
  localparam int unsigned F = HW * G;  // beats per frame
  localparam int unsigned CODES = $unsigned(U_MAX - U_MIN + 1);  // threshold columns per channel
  localparam int unsigned QB = signed_bits(Q_MIN, Q_MAX);  // bits of q
  localparam int unsigned RB = signed_bits(R_MIN, R_MAX);  // bits of r
  localparam int unsigned UB = signed_bits(U_MIN, U_MAX);  // bits of u
  localparam int unsigned HB = QB + W_BITS + $clog2(C) + 1;  // bits of the hidden sums q @ W1
  localparam int unsigned VB = RB + W_BITS + $clog2(HID) + 1;  // bits of v = r @ W2
  localparam int unsigned TB = ACC_BITS + 1;  // bits of a threshold T
  localparam int unsigned SB = TB + 1;  // bits of a selected-threshold lane: {NEG, T} (NEG in the top PE bits)
  localparam int unsigned KB = addr_bits(CODES);  // bits of a code
  localparam int unsigned GW = addr_bits(G);  // channel-group counter / sum_mem, v_mem, DIR address
  localparam int unsigned BW = addr_bits(2 * G);  // q_mem, sel_mem address (bank * G + g)
  localparam int unsigned PW = addr_bits(HW);  // pixel counter
  localparam int unsigned FW = addr_bits(2 * F);  // frame buffer address
  localparam int unsigned PosW = addr_bits(F);  // beat within a frame
  localparam int unsigned NW = addr_bits(2 * F + 1);  // words held in the frame buffer, 0..2F
  localparam int unsigned MW = addr_bits(HID * G);  // W1 / W2 address
  localparam int unsigned JW = addr_bits(HID + 1);  // MLP pass 0..HID
  localparam int unsigned TW = addr_bits(G * CODES);  // THR address

  initial begin
    if (H < 1 || W < 1) $error("H and W must be >= 1 (instance %m)");
    if (C < 1 || PE < 1 || C % PE != 0) $error("PE must divide C, both >= 1 (instance %m)");
    if (ACC_BITS < 2 || ACC_BITS > 31) $error("ACC_BITS must be in 2..31 (instance %m)");
    if (HID < 1) $error("HID must be >= 1 (instance %m)");
    if (W_BITS < 2 || W_BITS > 16) $error("W_BITS must be in 2..16 (instance %m)");
    if (SUM_BITS < ACC_BITS + $clog2(H * W) || SUM_BITS > 48)
      $error("SUM_BITS must be in ACC_BITS + clog2(H*W) .. 48 (instance %m)");
    if (STAT_SHIFT < -40 || STAT_SHIFT > 16 || R_SHIFT < -40 || R_SHIFT > 16 || U_SHIFT < -40 || U_SHIFT > 16)
      $error("STAT_SHIFT, R_SHIFT and U_SHIFT must be in [-40, 16] (instance %m)");
    if (Q_MIN > Q_MAX || Q_MIN < -32768 || Q_MAX > 32767) $error("need -2^15 <= Q_MIN <= Q_MAX < 2^15 (instance %m)");
    if (R_MIN > R_MAX || R_MIN < -32768 || R_MAX > 32767) $error("need -2^15 <= R_MIN <= R_MAX < 2^15 (instance %m)");
    if (U_MIN > U_MAX || U_MAX - U_MIN >= 4096) $error("need U_MIN <= U_MAX < U_MIN + 4096 (instance %m)");
  end

  // ------------------------------------------------------------------ shared state
  // q_full_reg[b]: q bank b holds a frame's q the MLP has not finished with (set by fill, cleared by MLP)
  // sel_full_reg[b]: selected-threshold bank b holds a frame's thresholds (set by MLP, cleared by drain)
  logic [1:0] q_full_reg, sel_full_reg;
  logic [1:0] q_set, q_clear, sel_set, sel_clear;
  logic [NW-1:0] count_reg;  // frame-buffer words written and not yet read
  logic rd_issue;  // the drain reads one frame-buffer word

  // ------------------------------------------------------------------ fill
  logic [PE*ACC_BITS-1:0] frame_mem[2*F];  // frame k at addresses (k%2)*F + beat
  logic [PE*SUM_BITS-1:0] sum_mem[G];  // running channel sums of the filling frame, group g
  logic [PE*QB-1:0] q_mem[2*G];  // q of bank b at b*G + g

  logic [FW-1:0] wr_ptr_reg;
  logic [GW-1:0] wr_g_reg;
  logic [PW-1:0] wr_pix_reg;
  logic fill_bank_reg;

  wire logic wr_last_pix = wr_pix_reg == PW'(HW - 1);
  wire logic wr_last_g = wr_g_reg == GW'(G - 1);
  // a frame's last pixel overwrites its q bank: wait until the MLP is done with the previous use
  assign s_axis_tready = count_reg != NW'(2 * F) && !(wr_last_pix && q_full_reg[fill_bank_reg]);
  wire logic push = s_axis_tvalid && s_axis_tready;

  // The frame's last pixel registers its sums and writes q from them a cycle later (the rescale off
  // the sum_mem read and adder path): the MLP reads a q bank two cycles after its last beat at the earliest.
  logic [PE*SUM_BITS-1:0] sum_next, q_sum_reg;
  logic [PE*QB-1:0] q_next;
  logic [BW-1:0] q_addr_reg;
  logic q_wr_reg;
  for (genvar p = 0; p < PE; p++) begin : g_fill_lane
    wire logic signed [ACC_BITS-1:0] acc = s_axis_tdata[p*ACC_BITS+:ACC_BITS];
    wire logic [SUM_BITS-1:0] previous = wr_pix_reg == '0 ? '0 : sum_mem[wr_g_reg][p*SUM_BITS+:SUM_BITS];
    assign sum_next[p*SUM_BITS+:SUM_BITS] = previous + SUM_BITS'(acc);
    dynamic_threshold_requant #(
        .IN_BITS (SUM_BITS),
        .SHIFT   (STAT_SHIFT),
        .LO      (Q_MIN),
        .HI      (Q_MAX),
        .OUT_BITS(QB)
    ) u_q (
        .in_value (q_sum_reg[p*SUM_BITS+:SUM_BITS]),
        .out_value(q_next[p*QB+:QB])
    );
  end

  always_ff @(posedge ap_clk) begin
    if (push) begin
      frame_mem[wr_ptr_reg] <= s_axis_tdata;
      sum_mem[wr_g_reg] <= sum_next;
      if (wr_last_pix) begin
        q_sum_reg <= sum_next;
        q_addr_reg <= fill_bank_reg ? BW'(G) + BW'(wr_g_reg) : BW'(wr_g_reg);
      end
    end
    if (q_wr_reg) q_mem[q_addr_reg] <= q_next;
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      wr_ptr_reg <= '0;
      wr_g_reg <= '0;
      wr_pix_reg <= '0;
      fill_bank_reg <= 1'b0;
      q_wr_reg <= 1'b0;
    end else begin
      q_wr_reg <= push && wr_last_pix;
      if (push) begin
        wr_ptr_reg <= wr_ptr_reg == FW'(2 * F - 1) ? '0 : wr_ptr_reg + 1'b1;
        if (wr_last_g) begin
          wr_g_reg <= '0;
          wr_pix_reg <= wr_last_pix ? '0 : wr_pix_reg + 1'b1;
          if (wr_last_pix) fill_bank_reg <= !fill_bank_reg;
        end else begin
          wr_g_reg <= wr_g_reg + 1'b1;
        end
      end
    end
  end

  always_comb begin
    q_set = '0;
    q_set[fill_bank_reg] = push && wr_last_pix && wr_last_g;
  end

  // ------------------------------------------------------------------ MLP sequencer
  // HID+1 passes of G cycles; pass j < HID issues W1 column j (stage A), pass j >= 1 W2 row j-1 (stage B)
  logic mlp_busy_reg, mlp_bank_reg;
  logic [JW-1:0] mlp_pass_reg;
  logic [GW-1:0] mlp_g_reg;

  wire logic mlp_start = !mlp_busy_reg && q_full_reg[mlp_bank_reg] && !sel_full_reg[mlp_bank_reg];
  wire logic mlp_last_g = mlp_g_reg == GW'(G - 1);
  wire logic mlp_end = mlp_busy_reg && mlp_last_g && mlp_pass_reg == JW'(HID);
  wire logic a_issue = mlp_busy_reg && mlp_pass_reg != JW'(HID);

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      mlp_busy_reg <= 1'b0;
      mlp_bank_reg <= 1'b0;
      mlp_pass_reg <= '0;
      mlp_g_reg <= '0;
    end else if (mlp_start) begin
      mlp_busy_reg <= 1'b1;
      mlp_pass_reg <= '0;
      mlp_g_reg <= '0;
    end else if (mlp_busy_reg) begin
      mlp_g_reg <= mlp_last_g ? '0 : mlp_g_reg + 1'b1;
      if (mlp_last_g) mlp_pass_reg <= mlp_pass_reg + 1'b1;
      if (mlp_end) begin
        mlp_busy_reg <= 1'b0;
        mlp_bank_reg <= !mlp_bank_reg;
      end
    end
  end

  always_comb begin
    q_clear = '0;
    q_clear[mlp_bank_reg] = mlp_end;  // the last q read was in pass HID-1
  end

  // ------------------------------------------------------------------ stage A: hidden = q @ W1, r
  logic [PE*W_BITS-1:0] w1_rom[HID*G];
  initial if (W1_FILE != "") $readmemh(W1_FILE, w1_rom);

  logic [MW-1:0] a_addr_reg;  // W1 address: pass * G + g
  logic a_valid_reg, a_first_reg, a_last_reg, a_end_reg;
  logic a2_valid_reg, a2_first_reg, a2_last_reg;  // a2: the products, registered (the multipliers' own cycle)
  logic [PE*QB-1:0] a_q_reg;
  logic [PE*W_BITS-1:0] a_w1_reg;
  logic signed [HB-1:0] hidden_reg;  // sum over the groups issued so far of this pass
  logic signed [RB-1:0] r_reg;  // r of the last finished pass, used by stage B during the next pass

  always_ff @(posedge ap_clk) begin
    if (a_issue) begin
      a_q_reg <= q_mem[mlp_bank_reg ? BW'(G) + BW'(mlp_g_reg) : BW'(mlp_g_reg)];
      a_w1_reg <= w1_rom[a_addr_reg];
    end
  end

  logic [PE*HB-1:0] a_products, a_products_reg;  // lane p: q * W1, sign-extended to HB bits
  logic signed [HB-1:0] a_sum;
  for (genvar p = 0; p < PE; p++) begin : g_a_lane
    wire logic signed [QB-1:0] q = a_q_reg[p*QB+:QB];
    wire logic signed [W_BITS-1:0] w = a_w1_reg[p*W_BITS+:W_BITS];
    wire logic signed [QB+W_BITS-1:0] product = (QB + W_BITS)'(q) * (QB + W_BITS)'(w);
    assign a_products[p*HB+:HB] = HB'(product);
  end
  always_comb begin
    a_sum = '0;
    for (int p = 0; p < PE; p++) a_sum = a_sum + $signed(a_products_reg[p*HB+:HB]);
  end

  always_ff @(posedge ap_clk) begin
    if (a_valid_reg) a_products_reg <= a_products;
  end

  wire logic signed [HB-1:0] hidden_relu = hidden_reg < 0 ? '0 : hidden_reg;
  logic signed [RB-1:0] r_next;
  dynamic_threshold_requant #(
      .IN_BITS (HB),
      .SHIFT   (R_SHIFT),
      .LO      (R_MIN),
      .HI      (R_MAX),
      .OUT_BITS(RB)
  ) u_r (
      .in_value (hidden_relu),
      .out_value(r_next)
  );

  always_ff @(posedge ap_clk) begin
    if (a2_valid_reg) hidden_reg <= (a2_first_reg ? '0 : hidden_reg) + a_sum;
    if (a_end_reg) r_reg <= r_next;
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      a_addr_reg <= '0;
      a_valid_reg <= 1'b0;
      a_first_reg <= 1'b0;
      a_last_reg <= 1'b0;
      a_end_reg <= 1'b0;
      a2_valid_reg <= 1'b0;
    end else begin
      if (a_issue) a_addr_reg <= a_addr_reg == MW'(HID * G - 1) ? '0 : a_addr_reg + 1'b1;
      a_valid_reg <= a_issue;
      a_first_reg <= mlp_g_reg == '0;
      a_last_reg <= mlp_last_g;
      a2_valid_reg <= a_valid_reg;
      a2_first_reg <= a_first_reg;
      a2_last_reg <= a_last_reg;
      a_end_reg <= a2_valid_reg && a2_last_reg;  // hidden_reg holds a finished sum
    end
  end

  // ------------------------------------------------------------------ stage B: v = r @ W2, codes
  // b0 (one cycle after the sequencer): waits for r; b1: W2 read; b2: r * W2 row (registered); b3: v +=
  // products; c4: code, THR read; c5: store
  logic [PE*W_BITS-1:0] w2_rom[HID*G];
  initial if (W2_FILE != "") $readmemh(W2_FILE, w2_rom);
  logic [PE-1:0] dir_rom[G];
  initial if (DIR_FILE != "") $readmemh(DIR_FILE, dir_rom);

  logic [MW-1:0] b_addr_reg;  // W2 address: (pass - 1) * G + g
  logic b0_valid_reg, b0_first_reg, b0_last_reg, b0_bank_reg;
  logic [GW-1:0] b0_g_reg;
  logic b1_valid_reg, b1_first_reg, b1_last_reg, b1_bank_reg;
  logic [GW-1:0] b1_g_reg;
  logic b2_valid_reg, b2_first_reg, b2_last_reg, b2_bank_reg;
  logic [GW-1:0] b2_g_reg;
  logic b3_valid_reg, b3_first_reg, b3_last_reg, b3_bank_reg;
  logic [GW-1:0] b3_g_reg;
  logic [PE*W_BITS-1:0] b_w2_reg;
  logic [PE*VB-1:0] b_products_reg;  // lane p: r * W2, sign-extended to VB bits
  logic [PE*VB-1:0] v_mem[G];  // partial v of group g
  logic [PE*VB-1:0] v_next, v_final_reg;
  logic c4_valid_reg, c4_bank_reg;
  logic [GW-1:0] c4_g_reg;
  logic c5_valid_reg, c5_bank_reg;
  logic [GW-1:0] c5_g_reg;
  logic [PE-1:0] c5_neg_reg;
  logic [PE*TB-1:0] c5_thr;

  always_ff @(posedge ap_clk) begin
    if (b1_valid_reg) b_w2_reg <= w2_rom[b_addr_reg];
  end

  for (genvar p = 0; p < PE; p++) begin : g_b_lane
    wire logic signed [W_BITS-1:0] w = b_w2_reg[p*W_BITS+:W_BITS];
    wire logic signed [RB+W_BITS-1:0] product = (RB + W_BITS)'(r_reg) * (RB + W_BITS)'(w);
    always_ff @(posedge ap_clk) begin
      if (b2_valid_reg) b_products_reg[p*VB+:VB] <= VB'(product);
    end
    wire logic [VB-1:0] previous = b3_first_reg ? '0 : v_mem[b3_g_reg][p*VB+:VB];
    assign v_next[p*VB+:VB] = previous + b_products_reg[p*VB+:VB];
  end

  always_ff @(posedge ap_clk) begin
    if (b3_valid_reg) v_mem[b3_g_reg] <= v_next;
    if (b3_valid_reg && b3_last_reg) v_final_reg <= v_next;
  end

  // c4: u, code, per-lane threshold lookup (each lane reads its own copy of THR; synthesis keeps its bits)
  for (genvar p = 0; p < PE; p++) begin : g_c_lane
    logic [PE*TB-1:0] thr_rom[G*CODES];
    initial if (THR_FILE != "") $readmemh(THR_FILE, thr_rom);
    logic signed [UB-1:0] u;
    dynamic_threshold_requant #(
        .IN_BITS (VB),
        .SHIFT   (U_SHIFT),
        .LO      (U_MIN),
        .HI      (U_MAX),
        .OUT_BITS(UB)
    ) u_u (
        .in_value (v_final_reg[p*VB+:VB]),
        .out_value(u)
    );
    wire logic [KB-1:0] code = KB'(u) - KB'(U_MIN);  // u - U_MIN < CODES <= 2^KB: exact modulo 2^KB
    logic [TW-1:0] thr_addr;  // g*CODES + code: a concatenation when CODES is a power of two (no adder)
    if (CODES > 1 && (CODES & (CODES - 1)) == 0) begin : g_pow2
      assign thr_addr = TW'({c4_g_reg, code});
    end else begin : g_any
      assign thr_addr = TW'(c4_g_reg) * TW'(CODES) + TW'(code);
    end
    logic [TB-1:0] thr_reg;
    always_ff @(posedge ap_clk) begin
      if (c4_valid_reg) thr_reg <= thr_rom[thr_addr][p*TB+:TB];
    end
    assign c5_thr[p*TB+:TB] = thr_reg;
  end

  always_ff @(posedge ap_clk) begin
    if (c4_valid_reg) c5_neg_reg <= dir_rom[c4_g_reg];
  end

  logic [PE*SB-1:0] sel_mem[2*G];  // bank b at b*G + g: {NEG lanes, T lanes}
  always_ff @(posedge ap_clk) begin
    if (c5_valid_reg) sel_mem[c5_bank_reg ? BW'(G) + BW'(c5_g_reg) : BW'(c5_g_reg)] <= {c5_neg_reg, c5_thr};
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      b_addr_reg <= '0;
      b0_valid_reg <= 1'b0;
      b1_valid_reg <= 1'b0;
      b2_valid_reg <= 1'b0;
      b3_valid_reg <= 1'b0;
      c4_valid_reg <= 1'b0;
      c5_valid_reg <= 1'b0;
    end else begin
      if (b1_valid_reg) b_addr_reg <= b_addr_reg == MW'(HID * G - 1) ? '0 : b_addr_reg + 1'b1;
      b0_valid_reg <= mlp_busy_reg && mlp_pass_reg != '0;
      b1_valid_reg <= b0_valid_reg;
      b2_valid_reg <= b1_valid_reg;
      b3_valid_reg <= b2_valid_reg;
      c4_valid_reg <= b3_valid_reg && b3_last_reg;
      c5_valid_reg <= c4_valid_reg;
    end
  end

  always_ff @(posedge ap_clk) begin  // control that travels with the valids
    b0_g_reg <= mlp_g_reg;
    b0_first_reg <= mlp_pass_reg == JW'(1);
    b0_last_reg <= mlp_pass_reg == JW'(HID);
    b0_bank_reg <= mlp_bank_reg;
    {b1_g_reg, b1_first_reg, b1_last_reg, b1_bank_reg} <= {b0_g_reg, b0_first_reg, b0_last_reg, b0_bank_reg};
    {b2_g_reg, b2_first_reg, b2_last_reg, b2_bank_reg} <= {b1_g_reg, b1_first_reg, b1_last_reg, b1_bank_reg};
    {b3_g_reg, b3_first_reg, b3_last_reg, b3_bank_reg} <= {b2_g_reg, b2_first_reg, b2_last_reg, b2_bank_reg};
    c4_g_reg <= b3_g_reg;
    c4_bank_reg <= b3_bank_reg;
    c5_g_reg <= c4_g_reg;
    c5_bank_reg <= c4_bank_reg;
  end

  always_comb begin
    sel_set = '0;
    sel_set[c5_bank_reg] = c5_valid_reg && c5_g_reg == GW'(G - 1);
  end

  // ------------------------------------------------------------------ drain
  // s1: frame-buffer and selected-threshold read (the block RAM's registered read); s2: the same, held in
  // fabric registers (off the block RAM's slow read-out); m: the output bits, compared from s2, so the
  // output leaves a register and the compare's carry chain stays off the next module's path
  logic [FW-1:0] rd_ptr_reg;
  logic [PosW-1:0] rd_pos_reg;  // beat within the frame
  logic [GW-1:0] rd_g_reg;
  logic rd_bank_reg;
  logic s1_valid_reg;
  logic [PE*ACC_BITS-1:0] s1_data_reg;
  logic [PE*SB-1:0] s1_sel_reg;
  logic s2_valid_reg;
  logic [PE*ACC_BITS-1:0] s2_data_reg;
  logic [PE*SB-1:0] s2_sel_reg;

  wire logic out_free = !m_axis_tvalid || m_axis_tready;
  wire logic s2_move = s2_valid_reg && out_free;
  wire logic s2_free = !s2_valid_reg || out_free;
  wire logic s1_move = s1_valid_reg && s2_free;
  wire logic rd_frame_end = rd_pos_reg == PosW'(F - 1);
  assign rd_issue = sel_full_reg[rd_bank_reg] && (!s1_valid_reg || s2_free);

  always_ff @(posedge ap_clk) begin
    if (rd_issue) begin
      s1_data_reg <= frame_mem[rd_ptr_reg];
      s1_sel_reg <= sel_mem[rd_bank_reg ? BW'(G) + BW'(rd_g_reg) : BW'(rd_g_reg)];
    end
  end

  always_ff @(posedge ap_clk) begin
    if (s1_move) begin
      s2_data_reg <= s1_data_reg;
      s2_sel_reg <= s1_sel_reg;
    end
  end

  logic [PE-1:0] s2_bits;
  for (genvar p = 0; p < PE; p++) begin : g_out_lane
    wire logic signed [ACC_BITS-1:0] acc = s2_data_reg[p*ACC_BITS+:ACC_BITS];
    wire logic signed [TB-1:0] thr = s2_sel_reg[p*TB+:TB];
    wire logic neg = s2_sel_reg[PE*TB+p];
    assign s2_bits[p] = (TB'(acc) >= thr) ^ neg;
  end

  always_ff @(posedge ap_clk) begin
    if (s2_move) m_axis_tdata <= s2_bits;
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      rd_ptr_reg <= '0;
      rd_pos_reg <= '0;
      rd_g_reg <= '0;
      rd_bank_reg <= 1'b0;
      s1_valid_reg <= 1'b0;
      s2_valid_reg <= 1'b0;
      m_axis_tvalid <= 1'b0;
    end else begin
      if (rd_issue) begin
        rd_ptr_reg <= rd_ptr_reg == FW'(2 * F - 1) ? '0 : rd_ptr_reg + 1'b1;
        rd_pos_reg <= rd_frame_end ? '0 : rd_pos_reg + 1'b1;
        rd_g_reg <= rd_g_reg == GW'(G - 1) ? '0 : rd_g_reg + 1'b1;
        if (rd_frame_end) rd_bank_reg <= !rd_bank_reg;
      end
      s1_valid_reg <= rd_issue || (s1_valid_reg && !s2_free);
      s2_valid_reg <= s1_move || (s2_valid_reg && !out_free);
      m_axis_tvalid <= s2_move || (m_axis_tvalid && !m_axis_tready);
    end
  end

  always_comb begin
    sel_clear = '0;
    sel_clear[rd_bank_reg] = rd_issue && rd_frame_end;  // the frame's last threshold read
  end

  // ------------------------------------------------------------------ flags and occupancy
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      q_full_reg <= '0;
      sel_full_reg <= '0;
      count_reg <= '0;
    end else begin
      q_full_reg <= (q_full_reg & ~q_clear) | q_set;
      sel_full_reg <= (sel_full_reg & ~sel_clear) | sel_set;
      count_reg <= count_reg + NW'(push) - NW'(rd_issue);
    end
  end
endmodule
`default_nettype wire
