// Language: SystemVerilog 2017
`default_nettype none
// mvau: folded XNOR-popcount matrix-vector unit with per-phase thresholds, one weight word per cycle.
//
// Formula, per output pixel, for channel c < MH over inputs k < MW with weight bits w[k, c]:
//   INPUT_MODE 0 (binary bits x):    pop = sum_k xnor(x[k], w[k, c]),   acc = 2 * pop - MW
//   INPUT_MODE 1 (signed IN_BITS x): acc = sum_k (w[k, c] ? x[k] : -x[k])
//   OUTPUT_MODE 0 (threshold):       y[c] = (binary ? pop : acc) >= T[c, phase]   (T signed ACC_BITS)
//   OUTPUT_MODE 1 (acc):             y[c] = acc                                  (signed ACC_BITS)
//   phase of output pixel (oh, ow) = (oh % PERIOD_H) * PERIOD_W + (ow % PERIOD_W); pixels row-major.
//   Before a POOL_H x POOL_W OR pool, that of the pooled pixel:
//   ((oh / POOL_H) % PERIOD_H) * PERIOD_W + ((ow / POOL_W) % PERIOD_W).
//   A threshold outside the reachable range means always / never; ACC_BITS must hold the stored thresholds
//   (e.g. binary 0..MW+1: clog2(MW+2)+1 bits) and, in acc mode, +-MW or +-MW*2^(IN_BITS-1) (checked).
//
// Layout, with NF = MH / PE neuron folds, SF = MW / SIMD synapse folds and P = PERIOD_H * PERIOD_W:
//   input:  SF beats per pixel of SIMD*IN_BITS bits; lane s of beat sf = x[sf*SIMD + s].
//   output: NF beats per pixel, nf = 0..NF-1, of PE bits (threshold) or PE*ACC_BITS bits (acc);
//           lane p = channel nf*PE + p.
//   WEIGHTS_FILE:    NF*SF words of PE*SIMD bits, address nf*SF + sf, bit p*SIMD + s = w[sf*SIMD + s, nf*PE + p]
//                    (flow.packing.mvau_weight_words).
//   THRESHOLDS_FILE: NF*P words of PE*ACC_BITS bits, address nf*P + phase, lane p = T[nf*PE + p, phase]
//                    (flow.packing.mvau_threshold_words); threshold mode only.
//
// Schedule: one (nf, sf) step per cycle, NF*SF cycles per pixel. During nf = 0 the SF input beats feed the
// datapath directly and are stored in an SF-word buffer that nf = 1..NF-1 read again; the next pixel's
// beats are taken right after the current pixel's last step, so a full-rate stream never idles the unit.
// Pipeline: step issue (weight read; the step's input word, streamed or buffered, selected and registered)
// -> with the weights in block RAM, one more register of the weight and input words (a block RAM's read-out
// is slow and its outputs spread over the die: the first adder level must not sit behind them) -> XNOR or
// +-x and a registered adder tree of max(1, clog2(SIMD)) levels -> accumulator (and threshold read)
// -> compare -> output register with a skid register. All stages advance while the skid register is empty
// (a registered enable): a stalled sink freezes the pipeline, nothing is dropped or repeated. Latency: the
// last input beat of a pixel accepted in cycle t gives the pixel's first output beat valid in cycle
// t + 3 + WEIGHTS_BLOCK + max(1, clog2(SIMD)).
module mvau #(
    parameter int unsigned MW          = 16,  // inputs per output channel (fan-in); a multiple of SIMD
    parameter int unsigned MH          = 8,   // output channels; a multiple of PE
    parameter int unsigned PE          = 2,   // output channels computed in parallel; divides MH
    parameter int unsigned SIMD        = 4,   // inputs consumed per cycle (per PE); divides MW
    parameter int unsigned INPUT_MODE  = 0,   // 0: binary input bits (XNOR-popcount); 1: signed integers
    parameter int unsigned IN_BITS     = 1,   // bits per input element; 1 in binary mode, >= 1 in int mode
    parameter int unsigned OUTPUT_MODE = 0,   // 0: one threshold bit per channel; 1: the signed accumulator
    parameter int unsigned ACC_BITS    = 8,   // bits of the signed accumulator output / threshold values; >= 2
    parameter int unsigned OUT_H       = 1,   // output pixel rows per frame (1 when fully connected); >= 1
    parameter int unsigned OUT_W       = 1,   // output pixel columns per frame (1 when fully connected); >= 1
    parameter int unsigned PERIOD_H    = 1,   // threshold period in output rows (DeSign); >= 1
    parameter int unsigned PERIOD_W    = 1,   // threshold period in output columns (DeSign); >= 1
    parameter int unsigned POOL_H      = 1,   // rows of the OR pool after the unit (phase per pooled pixel); >= 1
    parameter int unsigned POOL_W      = 1,   // columns of the OR pool after the unit; >= 1
    parameter int unsigned WEIGHTS_BLOCK    = 0,  // 1: the weight memory in block RAM (rom)
    parameter int unsigned THRESHOLDS_BLOCK = 0,  // 1: the threshold memory in block RAM (rom)
    // untyped string parameters (the portable form for $readmemh file names)
    parameter              WEIGHTS_FILE    = "weights.memh",    // $readmemh file of the weight memory
    parameter              THRESHOLDS_FILE = "thresholds.memh"  // $readmemh file of the thresholds (mode 0)
) (
    input  wire logic                                             ap_clk,
    input  wire logic                                             ap_rst_n,
    // input stream: SIMD elements of IN_BITS bits
    input  wire logic [                         SIMD*IN_BITS-1:0] s_axis_tdata,
    input  wire logic                                             s_axis_tvalid,
    output logic                                                  s_axis_tready,
    // output stream: PE threshold bits or PE signed ACC_BITS accumulators
    output logic      [(OUTPUT_MODE == 1 ? PE*ACC_BITS : PE)-1:0] m_axis_tdata,
    output logic                                                  m_axis_tvalid,
    input  wire logic                                             m_axis_tready
);
  localparam int unsigned NF = MH / PE;  // neuron folds per pixel
  localparam int unsigned SF = MW / SIMD;  // synapse folds per neuron fold
  localparam int unsigned P = PERIOD_H * PERIOD_W;  // threshold phases
  localparam int unsigned IW = SIMD * IN_BITS;  // input beat width
  localparam int unsigned OW = OUTPUT_MODE == 1 ? PE * ACC_BITS : PE;  // output beat width
  localparam bit SGN = INPUT_MODE == 1;  // signed datapath (int input)
  localparam int unsigned LEVELS = SIMD > 1 ? $clog2(SIMD) : 1;  // registered adder tree levels (mvau_dot)
  localparam int unsigned WREG = WEIGHTS_BLOCK != 0 ? 1 : 0;  // registers between a block RAM and the tree
  localparam int unsigned DT = WREG + LEVELS;  // stages from stage 1 to the tree's output
  localparam int unsigned W0 = SGN ? IN_BITS + 1 : 1;  // tree leaf width: xnor bit, or +-x
  localparam int unsigned TW = W0 + LEVELS;  // tree output width
  // accumulator: unsigned popcount 0..MW (binary) or signed sum within +-MW*2^(IN_BITS-1) (int)
  localparam int unsigned NEED = SGN ? $clog2(MW) + IN_BITS + 1 : $clog2(MW + 1);
  localparam int unsigned AW = NEED > TW ? NEED : TW;
  localparam int unsigned CW = (AW > ACC_BITS ? AW : ACC_BITS) + 2;  // signed compare / output arithmetic
  // bits of a signed value holding the accumulator range +-MW (binary) or +-MW*2^(IN_BITS-1) (int)
  localparam int unsigned RANGE_BITS = $clog2(MW + 1) + (SGN ? IN_BITS : 1);
  localparam int unsigned SFW = SF > 1 ? $clog2(SF) : 1;
  localparam int unsigned NFW = NF > 1 ? $clog2(NF) : 1;
  localparam int unsigned WAW = NF * SF > 1 ? $clog2(NF * SF) : 1;

  initial begin
    if (MW < 1 || SIMD < 1 || MW % SIMD != 0) $error("SIMD must divide MW (instance %m)");
    if (MH < 1 || PE < 1 || MH % PE != 0) $error("PE must divide MH (instance %m)");
    if (INPUT_MODE > 1) $error("INPUT_MODE must be 0 (binary) or 1 (int) (instance %m)");
    if (INPUT_MODE == 0 && IN_BITS != 1) $error("IN_BITS must be 1 in binary mode (instance %m)");
    if (IN_BITS < 1) $error("IN_BITS must be >= 1 (instance %m)");
    if (OUTPUT_MODE > 1) $error("OUTPUT_MODE must be 0 (threshold) or 1 (acc) (instance %m)");
    if (ACC_BITS < 2) $error("ACC_BITS must be >= 2 (instance %m)");
    if (OUTPUT_MODE == 1 && ACC_BITS < RANGE_BITS) $error("ACC_BITS must be >= %0d in acc mode (instance %m)", RANGE_BITS);
    if (OUT_H < 1 || OUT_W < 1) $error("OUT_H and OUT_W must be >= 1 (instance %m)");
    if (PERIOD_H < 1 || PERIOD_W < 1) $error("PERIOD_H and PERIOD_W must be >= 1 (instance %m)");
    if (POOL_H < 1 || POOL_W < 1) $error("POOL_H and POOL_W must be >= 1 (instance %m)");
  end

  // ---- output handshake: the pipeline advances while the skid register is empty
  logic skid_valid_reg;
  wire logic en = !skid_valid_reg;

  // ---- step issue: counters over (pixel, nf, sf)
  logic [SFW-1:0] sf_reg;
  logic [NFW-1:0] nf_reg;
  logic [WAW-1:0] waddr_reg;  // nf*SF + sf
  logic first_nf_reg;  // nf = 0, registered with nf_reg: s_axis_tready is one gate from two registers
  wire logic last_sf = sf_reg == SFW'(SF - 1);
  wire logic last_nf = nf_reg == NFW'(NF - 1);
  // nf = 0 takes one input beat per step; later folds read the buffer
  assign s_axis_tready = en && first_nf_reg;
  wire logic issue = en && (!first_nf_reg || s_axis_tvalid);
  wire logic pixel_done = issue && last_sf && last_nf;

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      sf_reg <= '0;
      nf_reg <= '0;
      first_nf_reg <= 1'b1;
      waddr_reg <= '0;
    end else if (issue) begin
      sf_reg <= last_sf ? '0 : sf_reg + 1'b1;
      if (last_sf) begin
        nf_reg <= last_nf ? '0 : nf_reg + 1'b1;
        first_nf_reg <= last_nf;
      end
      waddr_reg <= pixel_done ? '0 : waddr_reg + 1'b1;
    end
  end

  // ---- memories: weights (rom), input vector buffer (synchronous reads, enabled with the pipeline)
  logic [PE*SIMD-1:0] w_s1_reg;  // stage 1: weight word of the step
  rom #(
      .DEPTH(NF * SF),
      .WIDTH(PE * SIMD),
      .BLOCK(WEIGHTS_BLOCK),
      .FILE(WEIGHTS_FILE)
  ) u_weights (
      .ap_clk(ap_clk),
      .en(en),
      .addr(waddr_reg),
      .data(w_s1_reg)
  );

  logic [IW-1:0] xbuf[SF];
  // stage 1: the step's input word, selected before the register (streamed in nf = 0, else buffered), so
  // the dot products start from a register and no select fans out to every lane of every PE
  logic [IW-1:0] x_s1_reg;

  if (SF > 1) begin : g_xbuf
    always_ff @(posedge ap_clk) begin
      if (issue && first_nf_reg) xbuf[sf_reg] <= s_axis_tdata;
      if (en) x_s1_reg <= first_nf_reg ? s_axis_tdata : xbuf[sf_reg];
    end
  end else begin : g_xbuf1
    always_ff @(posedge ap_clk) begin
      if (issue && first_nf_reg) xbuf[0] <= s_axis_tdata;
      if (en) x_s1_reg <= first_nf_reg ? s_axis_tdata : xbuf[0];
    end
  end

  // stage 1 + WREG: the words the dot products read
  logic [PE*SIMD-1:0] w_dot;
  logic [IW-1:0] x_dot;

  if (WREG != 0) begin : g_wreg
    logic [PE*SIMD-1:0] w_s2_reg;
    logic [IW-1:0] x_s2_reg;
    always_ff @(posedge ap_clk) begin
      if (en) begin
        w_s2_reg <= w_s1_reg;
        x_s2_reg <= x_s1_reg;
      end
    end
    assign w_dot = w_s2_reg;
    assign x_dot = x_s2_reg;
  end else begin : g_no_wreg
    assign w_dot = w_s1_reg;
    assign x_dot = x_s1_reg;
  end

  // ---- step flags along stage 1 (index 0), the weight register (WREG) and the tree levels (up to index DT)
  logic v_pipe[DT+1];  // the stage holds a step
  logic first_pipe[DT+1];  // sf = 0: restart the accumulator
  logic last_pipe[DT+1];  // sf = SF-1: the accumulator is complete after this step

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      for (int i = 0; i <= DT; i++) v_pipe[i] <= 1'b0;
    end else if (en) begin
      v_pipe[0] <= issue;
      for (int i = 1; i <= DT; i++) v_pipe[i] <= v_pipe[i-1];
    end
  end

  always_ff @(posedge ap_clk) begin
    if (en) begin
      first_pipe[0] <= sf_reg == '0;
      last_pipe[0]  <= last_sf;
      for (int i = 1; i <= DT; i++) begin
        first_pipe[i] <= first_pipe[i-1];
        last_pipe[i]  <= last_pipe[i-1];
      end
    end
  end

  // ---- per PE: the step's dot product (mvau_dot: leaves and a registered adder tree of LEVELS levels)
  logic [PE*TW-1:0] tree_out;  // lane p: the PE's sum over the step's SIMD inputs

  for (genvar p = 0; p < PE; p++) begin : g_pe
    mvau_dot #(
        .SIMD(SIMD),
        .IN_BITS(IN_BITS),
        .SGN(INPUT_MODE)
    ) u_dot (
        .ap_clk(ap_clk),
        .en(en),
        .x(x_dot),
        .w(w_dot[p*SIMD+:SIMD]),
        .sum(tree_out[p*TW+:TW])
    );
  end

  // ---- accumulator stage
  wire logic t_v = v_pipe[DT];
  wire logic t_first = first_pipe[DT];
  wire logic t_last = last_pipe[DT];
  logic [AW-1:0] acc_reg[PE];  // unsigned popcount (binary) or signed sum (int)
  logic res_valid_reg;  // acc_reg holds a complete (pixel, nf) result

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) res_valid_reg <= 1'b0;
    else if (en) res_valid_reg <= t_v && t_last;
  end

  always_ff @(posedge ap_clk) begin
    if (en && t_v) begin
      for (int p = 0; p < PE; p++) begin
        if (SGN) acc_reg[p] <= (t_first ? '0 : acc_reg[p]) + AW'($signed(tree_out[p*TW+:TW]));
        else acc_reg[p] <= (t_first ? '0 : acc_reg[p]) + AW'(tree_out[p*TW+:TW]);
      end
    end
  end

  // ---- result: threshold bits or accumulators (combinational from the accumulator stage)
  logic [OW-1:0] res_data;

  if (OUTPUT_MODE == 0) begin : g_thr
    localparam int unsigned TAW = NF * P > 1 ? $clog2(NF * P) : 1;
    localparam int unsigned PB = P > 1 ? $clog2(P) : 1;
    logic [TAW-1:0] tbase_reg;  // nf * P
    logic [PB-1:0] phase;       // the threshold phase of the step's output pixel (pixel_phase)
    logic [PB-1:0] next_phase_unused;

    pixel_phase #(
        .H(OUT_H),
        .W(OUT_W),
        .PERIOD_H(PERIOD_H),
        .PERIOD_W(PERIOD_W),
        .POOL_H(POOL_H),
        .POOL_W(POOL_W)
    ) u_phase (
        .ap_clk(ap_clk),
        .ap_rst_n(ap_rst_n),
        .advance(issue && last_sf && last_nf),
        .phase(phase),
        .next_phase(next_phase_unused)
    );

    always_ff @(posedge ap_clk) begin
      if (!ap_rst_n) tbase_reg <= '0;
      else if (issue && last_sf) tbase_reg <= last_nf ? '0 : tbase_reg + TAW'(P);
    end

    // threshold address nf*P + phase, carried along the pipeline, read when the step leaves the tree
    logic [TAW-1:0] taddr_pipe[DT+1];
    always_ff @(posedge ap_clk) begin
      if (en) begin
        taddr_pipe[0] <= tbase_reg + TAW'(phase);
        for (int i = 1; i <= DT; i++) taddr_pipe[i] <= taddr_pipe[i-1];
      end
    end

    logic [PE*ACC_BITS-1:0] thr_reg;  // aligned with acc_reg
    rom #(
        .DEPTH(NF * P),
        .WIDTH(PE * ACC_BITS),
        .BLOCK(THRESHOLDS_BLOCK),
        .FILE(THRESHOLDS_FILE)
    ) u_thresholds (
        .ap_clk(ap_clk),
        .en(en),
        .addr(taddr_pipe[DT]),
        .data(thr_reg)
    );

    always_comb begin
      for (int p = 0; p < PE; p++) begin
        if (SGN) res_data[p] = $signed(CW'($signed(acc_reg[p]))) >= $signed(CW'($signed(thr_reg[p*ACC_BITS+:ACC_BITS])));
        else res_data[p] = $signed(CW'(acc_reg[p])) >= $signed(CW'($signed(thr_reg[p*ACC_BITS+:ACC_BITS])));
      end
    end
  end else begin : g_acc
    always_comb begin
      for (int p = 0; p < PE; p++) begin
        // binary: the bipolar dot product 2*pop - MW; int: the sum (sign-extended or exact)
        if (SGN) res_data[p*ACC_BITS+:ACC_BITS] = ACC_BITS'($signed(CW'($signed(acc_reg[p]))));
        else res_data[p*ACC_BITS+:ACC_BITS] = ACC_BITS'((CW'(acc_reg[p]) << 1) - CW'(MW));
      end
    end
  end

  // ---- output register with a skid register
  logic [OW-1:0] out_reg, skid_reg;
  logic out_valid_reg;
  wire logic take = en && res_valid_reg;  // the result moves into the output stage
  wire logic stalled = out_valid_reg && !m_axis_tready;

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      out_valid_reg  <= 1'b0;
      skid_valid_reg <= 1'b0;
    end else if (take) begin
      if (stalled) skid_valid_reg <= 1'b1;
      else out_valid_reg <= 1'b1;
    end else if (m_axis_tready) begin
      if (skid_valid_reg) skid_valid_reg <= 1'b0;
      else out_valid_reg <= 1'b0;
    end
  end

  always_ff @(posedge ap_clk) begin
    if (take) begin
      if (stalled) skid_reg <= res_data;
      else out_reg <= res_data;
    end else if (m_axis_tready && skid_valid_reg) begin
      out_reg <= skid_reg;
    end
  end

  assign m_axis_tdata  = out_reg;
  assign m_axis_tvalid = out_valid_reg;
endmodule
`default_nettype wire
