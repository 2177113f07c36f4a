// Language: SystemVerilog 2017
`default_nettype none
// sliding_window: im2col on an NHWC stream (a convolution input generator) with a row line buffer.
//
// Formula: OH = (IFM_H + PAD_TOP + PAD_BOTTOM - KH) / STRIDE_H + 1 and
//          OW = (IFM_W + PAD_LEFT + PAD_RIGHT - KW) / STRIDE_W + 1 (floor);
//          out[oh, ow, (i*KW + j)*C + c] = padded[oh*STRIDE_H + i, ow*STRIDE_W + j, c], where padded
//          is the input surrounded by PAD_TOP/PAD_LEFT/PAD_BOTTOM/PAD_RIGHT pixels of pad values
//          (flow/ops/sliding_window.py, `sliding_window`): PAD_VALUE in every channel, or with
//          PAD_PER_CHANNEL one value per channel from PAD_VALUES_FILE.
//
// Data layout (lane 0 at the LSB, BITS bits per lane, frames back to back):
//  - SIMD mode (SIMD divides C): an input beat holds SIMD channels of one pixel, C/SIMD beats
//    per pixel, pixels row-major. Output beats hold SIMD elements of the window, ordered
//    oh, ow (row-major), then i < KH, j < KW, then channel group cf < C/SIMD:
//    lanes = padded[oh*STRIDE_H + i, ow*STRIDE_W + j, cf*SIMD +: SIMD].
//  - Parallel-window mode (SIMD == KH*KW*C, KH*KW > 1): an input beat holds one pixel (C lanes),
//    an output beat one whole window (KH*KW*C lanes in (i, j, c) order), one window per cycle.
//
// Pad values: PAD_PER_CHANNEL = 0 pads every element with the constant PAD_VALUE. PAD_PER_CHANNEL = 1 reads
// PAD_VALUES_FILE ($readmemh): CF = C/IN_LANES words of IN_LANES*BITS bits, one per input beat of a pixel,
// word cf lane l = pad value of channel cf*IN_LANES + l (one word, a whole pixel, in parallel-window mode);
// a constant ROM, so a mux of CF constants in SIMD mode and a constant in parallel-window mode.
//
// Line buffer: NR = KH + max(1, STRIDE_H - 1) input rows (padding is never stored). Rows are
// numbered continuously across frames, so row g lives in slot g mod NR. SIMD mode keeps one
// memory of NR*IFM_W*C/SIMD words of SIMD*BITS bits (word slot*IFM_W*C/SIMD + col*C/SIMD + cf);
// parallel-window mode splits it into NR*KW banks (bank [g mod NR][col mod KW], word col / KW,
// C*BITS bits) so that one cycle reads any KH x KW window.
//
// Schedule: the writer (input side) and the reader (window generator) run concurrently.
// The reader issues a beat when the pixel it needs has been written (whole window in
// parallel-window mode) and the output queue has room; the writer accepts a pixel when the
// slot it overwrites is no longer needed: rows above the current window are free, and rows
// used by no later output row (all of them on the last output row of a frame) are freed
// column by column as the windows move right. The next frame's rows therefore enter while
// the current frame is still being emitted, and a frame takes about
// max(IFM_H*IFM_W*C, OH*OW*KH*KW*C)/SIMD cycles (parallel window: max(IFM_H*IFM_W, OH*OW)).
// Read latency: a beat leaves 2 cycles after its memory read (read register, 3-word queue).
module sliding_window #(
    parameter int unsigned IFM_H = 8,  // input height in pixels; >= 1
    parameter int unsigned IFM_W = 8,  // input width in pixels; >= 1
    parameter int unsigned C = 1,  // input channels; >= 1
    parameter int unsigned KH = 3,  // window height in pixels; >= 1, <= IFM_H + PAD_TOP + PAD_BOTTOM
    parameter int unsigned KW = 3,  // window width in pixels; >= 1, <= IFM_W + PAD_LEFT + PAD_RIGHT
    parameter int unsigned STRIDE_H = 1,  // vertical stride in pixels; >= 1
    parameter int unsigned STRIDE_W = 1,  // horizontal stride in pixels; >= 1
    parameter int unsigned PAD_TOP = 0,  // padding rows above the input; < KH
    parameter int unsigned PAD_LEFT = 0,  // padding columns left of the input; < KW
    parameter int unsigned PAD_BOTTOM = 0,  // padding rows below the input; < KH
    parameter int unsigned PAD_RIGHT = 0,  // padding columns right of the input; < KW
    parameter int unsigned BITS = 1,  // bits per element; >= 1
    parameter int unsigned SIMD = 1,  // elements per output beat: a divisor of C, or KH*KW*C (parallel window)
    parameter logic [BITS-1:0] PAD_VALUE = '0,  // padded element (two's complement if signed); uniform pads
    parameter int unsigned PAD_PER_CHANNEL = 0,  // 0: every padded element is PAD_VALUE; 1: one per channel
    // $readmemh file of the per-channel pad values (PAD_PER_CHANNEL = 1; layout above). Untyped: a string.
    parameter PAD_VALUES_FILE = "",
    // derived, not to be overridden: elements per input beat
    localparam int unsigned IN_LANES = (SIMD == KH * KW * C && KH * KW > 1) ? C : SIMD
) (
    input  wire logic                     ap_clk,
    input  wire logic                     ap_rst_n,
    // input stream: IN_LANES channels of one pixel per beat
    input  wire logic [IN_LANES*BITS-1:0] s_axis_tdata,
    input  wire logic                     s_axis_tvalid,
    output logic                          s_axis_tready,
    // output stream: SIMD window elements per beat
    output logic      [    SIMD*BITS-1:0] m_axis_tdata,
    output logic                          m_axis_tvalid,
    input  wire logic                     m_axis_tready
);
  // bits of a counter 0..n-1
  function automatic int unsigned cbits(input int unsigned n);
    cbits = n > 1 ? $clog2(n) : 1;
  endfunction

  localparam bit PW = SIMD == KH * KW * C && KH * KW > 1;  // parallel-window mode
  localparam int unsigned CF = C / IN_LANES;  // input beats per pixel (1 in parallel-window mode)
  localparam int unsigned OH = (IFM_H + PAD_TOP + PAD_BOTTOM - KH) / STRIDE_H + 1;
  localparam int unsigned OW = (IFM_W + PAD_LEFT + PAD_RIGHT - KW) / STRIDE_W + 1;
  localparam int unsigned NR = KH + (STRIDE_H > 2 ? STRIDE_H - 1 : 1);  // line buffer rows
  localparam int unsigned OUT_BITS = SIMD * BITS;
  // signed row/column arithmetic: values stay within +-(sum of the geometry)
  localparam int unsigned GEOM = IFM_H + IFM_W + NR + KH + KW + STRIDE_H + STRIDE_W
                                 + PAD_TOP + PAD_LEFT + PAD_BOTTOM + PAD_RIGHT;
  localparam int unsigned CW = $clog2(GEOM + 1) + 2;
  // Slots are counted in slot units: one slot in parallel-window mode, its first word address
  // (ROWW words a row) in SIMD mode, so that slot arithmetic there yields addresses directly.
  localparam int unsigned ROWW = IFM_W * CF;  // words per buffered row in SIMD mode
  localparam int unsigned SU = PW ? 1 : ROWW;
  localparam int unsigned SM = NR * SU;  // slot modulus
  localparam int unsigned SLW = cbits(SM);
  localparam int unsigned CFB = cbits(CF);
  localparam int unsigned OHB = cbits(OH);
  localparam int unsigned OWB = cbits(OW);
  localparam int unsigned QD = 3;  // output queue words: covers the read latency at full rate

  typedef logic signed [CW-1:0] pos_t;
  localparam pos_t S_ONE = CW'(1);
  localparam pos_t S_IFM_H = CW'(IFM_H);
  localparam pos_t S_IFM_W = CW'(IFM_W);
  localparam pos_t S_NR = CW'(NR);
  localparam pos_t S_KH1 = CW'(KH - 1);
  localparam pos_t S_KW1 = CW'(KW - 1);
  localparam pos_t S_SH = CW'(STRIDE_H);
  localparam pos_t S_SW = CW'(STRIDE_W);
  localparam pos_t S_ROW_START = -CW'(PAD_TOP);  // top row of the first window
  localparam pos_t S_COL_START = -CW'(PAD_LEFT);  // left column of the first window
  // slot steps (in slot units, modulo SM)
  localparam int unsigned SH_STEP = STRIDE_H % NR * SU;  // next output row
  localparam int unsigned H_STEP = IFM_H % NR * SU;  // next frame
  localparam int unsigned ROW_START = (NR - PAD_TOP % NR) % NR * SU;  // row -PAD_TOP
  localparam int unsigned NEXT_START = (IFM_H % NR + NR - PAD_TOP % NR) % NR * SU;  // IFM_H - PAD_TOP

  initial begin
    if (IFM_H < 1 || IFM_W < 1) $error("IFM_H and IFM_W must be >= 1 (instance %m)");
    if (C < 1) $error("C must be >= 1 (instance %m)");
    if (KH < 1 || KW < 1) $error("KH and KW must be >= 1 (instance %m)");
    if (STRIDE_H < 1 || STRIDE_W < 1) $error("STRIDE_H and STRIDE_W must be >= 1 (instance %m)");
    if (PAD_TOP >= KH || PAD_BOTTOM >= KH) $error("PAD_TOP and PAD_BOTTOM must be < KH (instance %m)");
    if (PAD_LEFT >= KW || PAD_RIGHT >= KW) $error("PAD_LEFT and PAD_RIGHT must be < KW (instance %m)");
    if (IFM_H + PAD_TOP + PAD_BOTTOM < KH) $error("KH must be <= IFM_H + PAD_TOP + PAD_BOTTOM (instance %m)");
    if (IFM_W + PAD_LEFT + PAD_RIGHT < KW) $error("KW must be <= IFM_W + PAD_LEFT + PAD_RIGHT (instance %m)");
    if (BITS < 1) $error("BITS must be >= 1 (instance %m)");
    if (SIMD < 1 || (C % SIMD != 0 && SIMD != KH * KW * C))
      $error("SIMD must divide C or equal KH*KW*C (instance %m)");
    if (PAD_PER_CHANNEL > 1) $error("PAD_PER_CHANNEL must be 0 or 1 (instance %m)");
    if (PAD_PER_CHANNEL == 1 && PAD_VALUES_FILE == "")
      $error("PAD_VALUES_FILE must name the pad values file when PAD_PER_CHANNEL = 1 (instance %m)");
  end

  // per-channel pad values, word cf for input beat cf of a pixel; a uniform pad needs none and stays the
  // PAD_VALUE constant, gate for gate what it costs without this option
  if (PAD_PER_CHANNEL == 1) begin : g_pad
    logic [IN_LANES*BITS-1:0] mem[CF];
    initial $readmemh(PAD_VALUES_FILE, mem);
  end

  // slot + step modulo SM, for slot < SM and step < SM
  function automatic logic [SLW-1:0] slot_add(input logic [SLW-1:0] slot, input int unsigned step);
    slot_add = SLW'(32'(slot) + step >= SM ? 32'(slot) + step - SM : 32'(slot) + step);
  endfunction

  // ---------------------------------------------------------------- writer (input side)
  // d_reg: the input row being written, counted from the top row of the reader's frame
  // (rows run on across frames); wc_reg/wcf_reg: its column and channel group. dpx_reg/wcn_reg:
  // d_reg/wc_reg once the pixel being written is complete (kept so that the flags below
  // compare registers only).
  pos_t d_reg, wc_reg, dpx_reg, wcn_reg;
  logic [CFB-1:0] wcf_reg;
  wire logic s_fire = s_axis_tvalid && s_axis_tready;
  wire logic w_pix_done = s_fire && wcf_reg == CFB'(CF - 1);
  wire logic wcn_last = wcn_reg == S_IFM_W - S_ONE;

  // ---------------------------------------------------------------- reader position (per window)
  pos_t row0_reg, col0_reg;  // top-left input pixel of the window (may lie in the padding)
  pos_t row0_sh_reg;  // row0_reg + STRIDE_H (registered: no adder before the readiness compares)
  logic [SLW-1:0] rbase_reg;  // slot of row 0 of the reader's frame
  logic [SLW-1:0] slot0_reg;  // slot of row row0_reg
  logic last_ow_reg, last_oh_reg;  // the window is the last of its output row, in the last output row
  wire logic last_ow = last_ow_reg;
  wire logic last_oh = last_oh_reg;
  // the next window's output row and column: the tables below are indexed by registers
  logic [OHB-1:0] oh1_reg;
  logic [OWB-1:0] ow1_reg;
  logic last_ow1_reg, last_oh1_reg;  // ow1_reg == OW - 1, oh1_reg == OH - 1
  pos_t col1_reg;  // left column of the next window

  // output row and column after k
  function automatic int unsigned f_next_oh(input int unsigned k);
    f_next_oh = k == OH - 1 ? 0 : k + 1;
  endfunction
  function automatic int unsigned f_next_ow(input int unsigned k);
    f_next_ow = k == OW - 1 ? 0 : k + 1;
  endfunction
  // top row of the windows of output row k, left column of those of output column k
  function automatic pos_t f_row0(input int unsigned k);
    f_row0 = S_ROW_START + CW'(k * STRIDE_H);
  endfunction
  function automatic pos_t f_col0(input int unsigned k);
    f_col0 = S_COL_START + CW'(k * STRIDE_W);
  endfunction
  // bottom input row the window at row0 covers
  function automatic pos_t f_r_hi(input pos_t row0);
    f_r_hi = row0 + S_KH1 > S_IFM_H - S_ONE ? S_IFM_H - S_ONE : row0 + S_KH1;
  endfunction

  // The writer may overwrite the slot of row d - NR once the reader no longer needs it: below
  // r_lo (the window's top input row) everything is free; in [r_lo, r_free2) (the rows only
  // this output row still needs) the columns left of the current window are. f_free_lo/f_free_hi:
  // r_lo + NR and r_free2 + NR of output row k, the bounds of d.
  function automatic pos_t f_free_lo(input int unsigned k);
    f_free_lo = (f_row0(k) < 0 ? '0 : f_row0(k)) + S_NR;
  endfunction
  function automatic pos_t f_free_hi(input int unsigned k);
    pos_t r_hi1, r_next0;
    r_hi1 = f_r_hi(f_row0(k)) + S_ONE;
    r_next0 = f_row0(k) + S_SH;
    f_free_hi = (k == OH - 1 || r_next0 > r_hi1 ? r_hi1 : r_next0) + S_NR;
  endfunction
  // input pixel (r, c) has been written when the writer is at row d, column wc
  function automatic logic f_written(input pos_t d, input pos_t wc, input pos_t r, input pos_t c);
    f_written = d > r || (d == r && wc > c);
  endfunction
  function automatic logic f_free(input pos_t d, input pos_t wc, input pos_t lo, input pos_t hi, input pos_t col0);
    f_free = d < lo || (d < hi && wc < col0);
  endfunction
  // A row bound of the window after one in output row k (the last of its output row if lastow),
  // in that one's row numbering: after the last window of a frame, IFM_H rows on.
  function automatic pos_t f_row_step(input int unsigned k, input logic lastow, input pos_t here, input pos_t there);
    f_row_step = !lastow ? here : k == OH - 1 ? there + S_IFM_H : there;
  endfunction

  // Timing: s_axis_tready and the reader's readiness are registered flags, computed one cycle
  // ahead for each outcome of the handshakes (the window advances or not, a pixel completes or
  // not) from registered bounds of the current and the next window (the *0/*1 registers, in the
  // current window's row numbering) and the writer position before and after its pixel; the
  // handshakes only select. So each flag always equals its function of the current positions:
  // the same cycle behaviour, with the compares off the handshake paths.
  logic tready_reg;
  assign s_axis_tready = tready_reg;
  pos_t lo0_reg, hi0_reg, lo1_reg, hi1_reg;  // f_free_lo/f_free_hi of the current and next window
  pos_t lo2, hi2, col2;  // the same and col1_reg for the window after the next (its row numbering)
  always_comb begin
    lo2 = '0;
    hi2 = '0;
    col2 = '0;
    for (int k = 0; k < OH; k++) begin
      if (oh1_reg == OHB'(k)) begin
        lo2 = f_row_step(k, last_ow1_reg, f_free_lo(k), f_free_lo(f_next_oh(k)));
        hi2 = f_row_step(k, last_ow1_reg, f_free_hi(k), f_free_hi(f_next_oh(k)));
      end
    end
    for (int k = 0; k < OW; k++) begin
      if (ow1_reg == OWB'(k)) col2 = f_col0(f_next_ow(k));
    end
  end

  // ---------------------------------------------------------------- issue control and queue
  logic beat_ready;  // the pixels of the next beat are in the buffer (mode specific)
  logic win_last;  // the next beat is the last of its window (mode specific)
  logic s1_valid_reg;  // a memory read is in flight
  logic [OUT_BITS-1:0] s1_data;  // its beat, valid with s1_valid_reg (mode specific)
  logic [1:0] q_count_reg;
  wire logic credit = 3'(q_count_reg) + 3'(s1_valid_reg) < 3'(QD);
  wire logic issue = credit && beat_ready;
  wire logic win_done = issue && win_last;
  wire logic frame_last = last_ow && last_oh;  // the window is the last of its frame
  wire logic frame_done = win_done && frame_last;

  // reader position after the current window (the rest is in the *1 registers)
  pos_t nxt_row0;
  logic [SLW-1:0] nxt_slot0, nxt_rbase;
  always_comb begin
    nxt_row0 = row0_reg;
    nxt_slot0 = slot0_reg;
    nxt_rbase = rbase_reg;
    if (last_ow) begin
      if (last_oh) begin
        nxt_row0 = S_ROW_START;
        nxt_rbase = slot_add(rbase_reg, H_STEP);
        nxt_slot0 = slot_add(rbase_reg, NEXT_START);
      end else begin
        nxt_row0 = row0_sh_reg;
        nxt_slot0 = slot_add(slot0_reg, SH_STEP);
      end
    end
  end

  // the flags after this edge, indexed by {win_done, w_pix_done}
  wire logic [3:0] tready_nx = {f_free(dpx_reg, wcn_reg, lo1_reg, hi1_reg, col1_reg),
                                f_free(d_reg, wc_reg, lo1_reg, hi1_reg, col1_reg),
                                f_free(dpx_reg, wcn_reg, lo0_reg, hi0_reg, col0_reg),
                                f_free(d_reg, wc_reg, lo0_reg, hi0_reg, col0_reg)};

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      d_reg <= '0;
      dpx_reg <= IFM_W == 1 ? S_ONE : '0;
      wc_reg <= '0;
      wcn_reg <= IFM_W == 1 ? '0 : S_ONE;
      wcf_reg <= '0;
      last_oh_reg <= OH == 1;
      last_ow_reg <= OW == 1;
      oh1_reg <= OHB'(OW == 1 ? f_next_oh(0) : 0);
      ow1_reg <= OWB'(f_next_ow(0));
      last_oh1_reg <= (OW == 1 ? f_next_oh(0) : 0) == OH - 1;
      last_ow1_reg <= f_next_ow(0) == OW - 1;
      row0_reg <= S_ROW_START;
      row0_sh_reg <= S_ROW_START + S_SH;
      col0_reg <= S_COL_START;
      col1_reg <= f_col0(f_next_ow(0));
      rbase_reg <= '0;
      slot0_reg <= SLW'(ROW_START);
      lo0_reg <= f_free_lo(0);
      hi0_reg <= f_free_hi(0);
      lo1_reg <= f_row_step(0, OW == 1, f_free_lo(0), f_free_lo(f_next_oh(0)));
      hi1_reg <= f_row_step(0, OW == 1, f_free_hi(0), f_free_hi(f_next_oh(0)));
      tready_reg <= f_free('0, '0, f_free_lo(0), f_free_hi(0), S_COL_START);
      s1_valid_reg <= 1'b0;
    end else begin
      if (s_fire) wcf_reg <= w_pix_done ? '0 : wcf_reg + 1'b1;
      if (w_pix_done) begin
        wc_reg <= wcn_reg;
        wcn_reg <= wcn_last ? '0 : wcn_reg + S_ONE;
      end
      d_reg <= (w_pix_done ? dpx_reg : d_reg) - (frame_done ? S_IFM_H : '0);
      dpx_reg <= (w_pix_done && wcn_last ? dpx_reg + S_ONE : dpx_reg) - (frame_done ? S_IFM_H : '0);
      if (win_done) begin
        last_ow_reg <= last_ow1_reg;
        last_oh_reg <= last_oh1_reg;
        ow1_reg <= last_ow1_reg ? '0 : ow1_reg + 1'b1;
        last_ow1_reg <= last_ow1_reg ? OW == 1 : 32'(ow1_reg) + 2 == OW;
        if (last_ow1_reg) begin
          oh1_reg <= last_oh1_reg ? '0 : oh1_reg + 1'b1;
          last_oh1_reg <= last_oh1_reg ? OH == 1 : 32'(oh1_reg) + 2 == OH;
        end
        row0_reg <= nxt_row0;
        row0_sh_reg <= nxt_row0 + S_SH;
        col0_reg <= col1_reg;
        col1_reg <= col2;
        slot0_reg <= nxt_slot0;
        rbase_reg <= nxt_rbase;
        lo0_reg <= frame_last ? f_free_lo(0) : lo1_reg;
        hi0_reg <= frame_last ? f_free_hi(0) : hi1_reg;
        lo1_reg <= lo2;
        hi1_reg <= hi2;
      end
      tready_reg <= tready_nx[{win_done, w_pix_done}];
      s1_valid_reg <= issue;
    end
  end

  // output queue: the credit check above guarantees room for every read in flight
  logic [OUT_BITS-1:0] q_data[QD];
  logic [1:0] q_wp_reg, q_rp_reg;
  wire logic q_pop = m_axis_tvalid && m_axis_tready;
  assign m_axis_tvalid = q_count_reg != 2'd0;
  assign m_axis_tdata = q_data[q_rp_reg];

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      q_count_reg <= '0;
      q_wp_reg <= '0;
      q_rp_reg <= '0;
    end else begin
      if (s1_valid_reg) q_wp_reg <= q_wp_reg == 2'(QD - 1) ? '0 : q_wp_reg + 1'b1;
      if (q_pop) q_rp_reg <= q_rp_reg == 2'(QD - 1) ? '0 : q_rp_reg + 1'b1;
      q_count_reg <= q_count_reg + 2'(s1_valid_reg) - 2'(q_pop);
    end
  end

  always_ff @(posedge ap_clk) begin
    if (s1_valid_reg) q_data[q_wp_reg] <= s1_data;
  end

  // ---------------------------------------------------------------- mode-specific datapath
  if (!PW) begin : g_simd
    // one memory, one SIMD-wide word per beat; the reader walks i, j, cf inside each window
    localparam int unsigned DEPTH = SM;  // NR rows of ROWW words; addresses are SLW bits
    // column part of an address, iw*CF + cf: signed, as the window may start in the padding
    localparam int unsigned CAW = $clog2((IFM_W + KW + STRIDE_W + PAD_LEFT + PAD_RIGHT) * CF + 1) + 2;
    typedef logic signed [CAW-1:0] ca_t;
    localparam ca_t CA_START = -CAW'(PAD_LEFT * CF);
    localparam ca_t CA_STEP = CAW'(STRIDE_W * CF);
    localparam int unsigned IB = cbits(KH);
    localparam int unsigned JB = cbits(KW);

    logic [OUT_BITS-1:0] mem[DEPTH];
    logic [SLW-1:0] wr_addr_reg;
    logic [CFB-1:0] cf_reg;
    logic [JB-1:0] j_reg;
    logic [IB-1:0] i_reg;
    pos_t ih_reg, iw_reg;  // input pixel of the next beat
    pos_t ih_nb, iw_nb;  // and of the beat after it
    pos_t ih_inc_reg, iw_inc_reg;  // ih_reg + 1, iw_reg + 1 (registered, as row0_sh_reg)
    logic [SLW-1:0] sloti_reg;  // first word of the slot of row ih_reg
    ca_t ca_reg;  // iw_reg*CF + cf_reg
    ca_t cbase_reg;  // col0_reg*CF
    logic [OUT_BITS-1:0] rd_reg;
    logic s1_pad_reg;

    // flags of the next beat, registered with its position (off the issue path)
    logic last_cf, last_j, last_i;  // cf_reg == CF - 1, j_reg == KW - 1, i_reg == KH - 1
    logic pad;  // the beat is padding
    function automatic logic f_pad(input pos_t ih, input pos_t iw);
      f_pad = ih < 0 || ih >= S_IFM_H || iw < 0 || iw >= S_IFM_W;
    endfunction
    assign win_last = last_cf && last_j && last_i;
    // beat readiness: its pixel is padding or has been written; a flag registered like tready_reg,
    // one cycle ahead for each outcome of {issue, w_pix_done}: the reader at this beat or the next
    // (after the last beat of a frame, with the writer's rows renumbered IFM_H down)
    function automatic logic f_ready(input logic pd, input pos_t d, input pos_t wc, input pos_t ih, input pos_t iw);
      f_ready = pd || f_written(d, wc, ih, iw);
    endfunction
    pos_t d_fe, dpx_fe;  // d_reg and dpx_reg after an issue
    assign d_fe = d_reg - (frame_last && win_last ? S_IFM_H : '0);
    assign dpx_fe = dpx_reg - (frame_last && win_last ? S_IFM_H : '0);
    wire logic pad_nb = f_pad(ih_nb, iw_nb);
    wire logic [3:0] ready_nx = {f_ready(pad_nb, dpx_fe, wcn_reg, ih_nb, iw_nb),
                                 f_ready(pad_nb, d_fe, wc_reg, ih_nb, iw_nb),
                                 f_ready(pad, dpx_reg, wcn_reg, ih_reg, iw_reg),
                                 f_ready(pad, d_reg, wc_reg, ih_reg, iw_reg)};
    logic ready_reg;
    assign beat_ready = ready_reg;
    // A padded beat. The beat in flight was issued in the previous cycle and cf_reg has moved on once
    // since: its channel group is cf_reg - 1 mod CF, so its pad word needs no register of its own.
    logic [OUT_BITS-1:0] pad_beat;
    if (PAD_PER_CHANNEL == 1) begin : g_pad_beat
      assign pad_beat = g_pad.mem[cf_reg == '0 ? CFB'(CF - 1) : cf_reg - 1'b1];
    end else begin : g_pad_beat
      assign pad_beat = {SIMD{PAD_VALUE}};
    end
    assign s1_data = s1_pad_reg ? pad_beat : rd_reg;

    ca_t nxt_cbase;
    assign nxt_cbase = last_ow ? CA_START : cbase_reg + CA_STEP;
    logic [SLW-1:0] rd_addr;
    assign rd_addr = sloti_reg + SLW'(ca_reg);  // in range whenever the beat is not padding

    always_comb begin
      ih_nb = ih_reg;
      iw_nb = iw_reg;
      if (last_cf) begin
        if (!last_j) begin
          iw_nb = iw_inc_reg;
        end else if (!last_i) begin
          iw_nb = col0_reg;
          ih_nb = ih_inc_reg;
        end else begin
          iw_nb = col1_reg;
          ih_nb = nxt_row0;
        end
      end
    end

    always_ff @(posedge ap_clk) begin
      if (!ap_rst_n) begin
        wr_addr_reg <= '0;
        cf_reg <= '0;
        j_reg <= '0;
        i_reg <= '0;
        last_cf <= CF == 1;
        last_j <= KW == 1;
        last_i <= KH == 1;
        ih_reg <= S_ROW_START;
        iw_reg <= S_COL_START;
        ih_inc_reg <= S_ROW_START + S_ONE;
        iw_inc_reg <= S_COL_START + S_ONE;
        pad <= f_pad(S_ROW_START, S_COL_START);
        ready_reg <= f_ready(f_pad(S_ROW_START, S_COL_START), '0, '0, S_ROW_START, S_COL_START);
        sloti_reg <= SLW'(ROW_START);
        ca_reg <= CA_START;
        cbase_reg <= CA_START;
      end else begin
        if (s_fire) wr_addr_reg <= wr_addr_reg == SLW'(DEPTH - 1) ? '0 : wr_addr_reg + 1'b1;
        ready_reg <= ready_nx[{issue, w_pix_done}];
        if (issue) begin
          ih_reg <= ih_nb;
          iw_reg <= iw_nb;
          ih_inc_reg <= ih_nb + S_ONE;
          iw_inc_reg <= iw_nb + S_ONE;
          pad <= pad_nb;
          ca_reg <= ca_reg + CAW'(1);  // next channel group or next column
          if (!last_cf) begin
            cf_reg <= cf_reg + 1'b1;
            last_cf <= 32'(cf_reg) + 2 == CF;
          end else begin
            cf_reg <= '0;
            last_cf <= CF == 1;
            if (!last_j) begin
              j_reg <= j_reg + 1'b1;
              last_j <= 32'(j_reg) + 2 == KW;
            end else begin
              j_reg <= '0;
              last_j <= KW == 1;
              if (!last_i) begin  // next window row
                i_reg <= i_reg + 1'b1;
                last_i <= 32'(i_reg) + 2 == KH;
                ca_reg <= cbase_reg;
                sloti_reg <= slot_add(sloti_reg, SU);
              end else begin  // window done: first beat of the next window
                i_reg <= '0;
                last_i <= KH == 1;
                ca_reg <= nxt_cbase;
                cbase_reg <= nxt_cbase;
                sloti_reg <= nxt_slot0;
              end
            end
          end
        end
      end
    end

    always_ff @(posedge ap_clk) begin
      if (s_fire) mem[wr_addr_reg] <= s_axis_tdata;
    end

    // read every cycle: only a cycle that issued a beat is kept (s1_valid_reg), so the read needs no
    // enable, and the issue decision (the window's compares) does not fan out to the read register's
    // enables; a padded beat's address may be out of range, and its word is not used
    always_ff @(posedge ap_clk) begin
      s1_pad_reg <= pad;
      rd_reg <= mem[rd_addr];
    end
  end else begin : g_parallel
    // NR*KW banks; one cycle reads a whole window, one column class per bank column
    localparam int unsigned PXB = C * BITS;  // bits per pixel
    localparam int unsigned QW = (IFM_W + KW - 1) / KW;  // words per bank
    localparam int unsigned QAW = cbits(QW);
    localparam int unsigned KB = cbits(KW);

    // writer: slot, column class and bank word of the pixel being written
    wire logic w_row_done = w_pix_done && wcn_reg == '0;  // the pixel is the last of its row
    logic [SLW-1:0] wslot_reg;
    logic [KB-1:0] wk_reg;
    logic [QAW-1:0] wq_reg;
    // reader, for output column ow (left column c = f_col0(ow) = q*KW + r, floor division): the column
    // class r of window column 0, and per column class k the bank word holding window column
    // (k - r) mod KW, word q + (r > k) (clamped: a padding column's data is unused). Tables, registered
    // from the next window's column (ow1_reg) so that the reads start at a register.
    function automatic logic [KB-1:0] f_rd_r(input int unsigned ow);
      f_rd_r = KB'((ow * STRIDE_W + KW - PAD_LEFT) % KW);
    endfunction
    function automatic logic [KW*QAW-1:0] f_rd_addr(input int unsigned ow);
      int q, a;
      q = (ow * STRIDE_W + KW - PAD_LEFT) / KW;  // no int'() casts: Yosys 0.23 does not parse them
      q = q - 1;
      for (int k = 0; k < KW; k++) begin
        a = q + (32'(f_rd_r(ow)) > k ? 1 : 0);
        f_rd_addr[k*QAW+:QAW] = a < 0 ? '0 : a >= QW ? QAW'(QW - 1) : QAW'(a);
      end
    endfunction
    logic [KB-1:0] r_reg, r2;
    logic [KW*QAW-1:0] rd_addr_reg, rd_addr2;  // word of column class k at [k*QAW +: QAW]
    always_comb begin
      r2 = '0;
      rd_addr2 = '0;
      for (int k = 0; k < OW; k++) begin
        if (ow1_reg == OWB'(k)) begin
          r2 = f_rd_r(k);
          rd_addr2 = f_rd_addr(k);
        end
      end
    end
    // window readiness: its bottom-right input pixel (row f_rh, column f_cl) has been written; a
    // flag registered like tready_reg, from the bounds of the current and next window (*0/*1)
    function automatic pos_t f_rh(input int unsigned k);
      f_rh = f_r_hi(f_row0(k));
    endfunction
    function automatic pos_t f_cl(input int unsigned k);
      f_cl = f_col0(k) + S_KW1 > S_IFM_W - S_ONE ? S_IFM_W - S_ONE : f_col0(k) + S_KW1;
    endfunction
    pos_t rh0_reg, cl0_reg, rh1_reg, cl1_reg;
    pos_t rh2, cl2;  // of the window after the next (its row numbering)
    always_comb begin
      rh2 = '0;
      cl2 = '0;
      for (int k = 0; k < OH; k++) begin
        if (oh1_reg == OHB'(k)) rh2 = f_row_step(k, last_ow1_reg, f_rh(k), f_rh(f_next_oh(k)));
      end
      for (int k = 0; k < OW; k++) begin
        if (ow1_reg == OWB'(k)) cl2 = f_cl(f_next_ow(k));
      end
    end
    wire logic [3:0] ready_nx = {f_written(dpx_reg, wcn_reg, rh1_reg, cl1_reg),
                                 f_written(d_reg, wc_reg, rh1_reg, cl1_reg),
                                 f_written(dpx_reg, wcn_reg, rh0_reg, cl0_reg),
                                 f_written(d_reg, wc_reg, rh0_reg, cl0_reg)};
    logic ready_reg;
    always_ff @(posedge ap_clk) begin
      if (!ap_rst_n) begin
        rh0_reg <= f_rh(0);
        cl0_reg <= f_cl(0);
        rh1_reg <= f_row_step(0, OW == 1, f_rh(0), f_rh(f_next_oh(0)));
        cl1_reg <= f_cl(f_next_ow(0));
        ready_reg <= f_written('0, '0, f_rh(0), f_cl(0));
      end else begin
        if (win_done) begin
          rh0_reg <= frame_last ? f_rh(0) : rh1_reg;
          cl0_reg <= cl1_reg;
          rh1_reg <= rh2;
          cl1_reg <= cl2;
        end
        ready_reg <= ready_nx[{win_done, w_pix_done}];
      end
    end
    assign beat_ready = ready_reg;
    assign win_last = 1'b1;

    always_ff @(posedge ap_clk) begin
      if (!ap_rst_n) begin
        wslot_reg <= '0;
        wk_reg <= '0;
        wq_reg <= '0;
        r_reg <= f_rd_r(0);
        rd_addr_reg <= f_rd_addr(0);
      end else begin
        if (w_pix_done) begin
          if (w_row_done) begin
            wslot_reg <= slot_add(wslot_reg, 1);
            wk_reg <= '0;
            wq_reg <= '0;
          end else if (wk_reg == KB'(KW - 1)) begin
            wk_reg <= '0;
            wq_reg <= wq_reg + 1'b1;
          end else begin
            wk_reg <= wk_reg + 1'b1;
          end
        end
        if (win_done) begin
          r_reg <= r2;
          rd_addr_reg <= rd_addr2;
        end
      end
    end

    wire logic [NR*KW*PXB-1:0] rd_all;
    for (genvar s = 0; s < NR; s++) begin : g_row
      for (genvar k = 0; k < KW; k++) begin : g_col
        logic [PXB-1:0] mem[QW];
        logic [PXB-1:0] rd_reg;
        always_ff @(posedge ap_clk) begin
          if (w_pix_done && wslot_reg == SLW'(s) && wk_reg == KB'(k)) mem[wq_reg] <= s_axis_tdata;
        end
        always_ff @(posedge ap_clk) begin
          if (issue) rd_reg <= mem[rd_addr_reg[k*QAW+:QAW]];
        end
        assign rd_all[(s*KW+k)*PXB+:PXB] = rd_reg;
      end
    end

    logic [PXB-1:0] pad_px;  // a padded pixel: a constant
    if (PAD_PER_CHANNEL == 1) begin : g_pad_px
      assign pad_px = g_pad.mem[0];
    end else begin : g_pad_px
      assign pad_px = {C{PAD_VALUE}};
    end

    // metadata of the read in flight: row slot rotation, column class rotation, padding masks
    logic [SLW-1:0] s1_slot0_reg;
    logic [KB-1:0] s1_r_reg;
    logic [KH-1:0] s1_rowpad_reg;
    logic [KW-1:0] s1_colpad_reg;
    always_ff @(posedge ap_clk) begin
      if (issue) begin
        s1_slot0_reg <= slot0_reg;
        s1_r_reg <= r_reg;
        for (int i = 0; i < KH; i++) begin
          s1_rowpad_reg[i] <= row0_reg + CW'(i) < 0 || row0_reg + CW'(i) >= S_IFM_H;
        end
        for (int j = 0; j < KW; j++) begin
          s1_colpad_reg[j] <= col0_reg + CW'(j) < 0 || col0_reg + CW'(j) >= S_IFM_W;
        end
      end
    end

    // window row i comes from slot (s1_slot0 + i) mod NR, window column j from column class
    // (s1_r + j) mod KW: rotations written as one-hot selects over constant indices
    logic [KH*KW*PXB-1:0] win_rows;  // window row i at [i*KW*PXB +: KW*PXB], by column class
    always_comb begin
      for (int i = 0; i < KH; i++) begin
        win_rows[i*KW*PXB+:KW*PXB] = '0;
        for (int s = 0; s < NR; s++) begin
          if (s1_slot0_reg == SLW'((s + NR - i) % NR)) win_rows[i*KW*PXB+:KW*PXB] = rd_all[s*KW*PXB+:KW*PXB];
        end
      end
    end
    always_comb begin
      for (int i = 0; i < KH; i++) begin
        for (int j = 0; j < KW; j++) begin
          logic [PXB-1:0] px;
          px = '0;
          for (int k = 0; k < KW; k++) begin
            if (s1_r_reg == KB'((k + KW - j) % KW)) px = win_rows[(i*KW+k)*PXB+:PXB];
          end
          s1_data[(i*KW+j)*PXB+:PXB] = (s1_rowpad_reg[i] || s1_colpad_reg[j]) ? pad_px : px;
        end
      end
    end
  end
endmodule
`default_nettype wire
