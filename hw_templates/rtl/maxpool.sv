// Language: SystemVerilog 2017
`default_nettype none
// maxpool: max-pool of an NHWC stream, of bits (BITS = 1: the max of bits is their OR) or of signed
// two's complement integers (BITS > 1; e.g. accumulators before a DySign unit).
//
// out[oh, ow, c] = max_{i < KH, j < KW} in[oh*STRIDE_H + i, ow*STRIDE_W + j, c], floor mode, no padding:
// OH = (IFM_H - KH) / STRIDE_H + 1, OW = (IFM_W - KW) / STRIDE_W + 1 (flow/ops/maxpool.py, `maxpool_nhwc`).
//
// Layout: an input beat holds PE elements of BITS bits, channels cf*PE .. cf*PE+PE-1 of one pixel (lane p
// at bits [p*BITS +: BITS]); C/PE beats per pixel, pixels row-major. Output beats have the same layout
// over the OH x OW pooled pixels. Input rows and columns past the last full window are consumed and
// discarded.
//
// Structure: one input beat per cycle, no frame buffer. A horizontal stage takes the max of each input
// beat and the NC = ceil(KW/STRIDE_W) column windows it belongs to (NC x C elements of registers) and
// hands on a finished horizontal max when the beat closes a column window. A vertical stage folds those
// into NR = ceil(KH/STRIDE_H) rows of partial maxima (OW x C elements each; one row when KH <= STRIDE_H)
// and emits a pooled beat when a row closes its window. Each stage has one lane-wise max (lane_max) per
// lane: an OR for bits, a comparator and a select for integers. Window membership comes from
// quotient/remainder counters of the pixel position, without division. The output is registered;
// s_axis_tready = !m_axis_tvalid || m_axis_tready. Frame period: IFM_H * IFM_W * C / PE cycles.
// Timing: one lane_max per cycle on any path. The horizontal partial maxima are read a cycle ahead into
// registers; the vertical stage registers its two operands and takes their max a cycle later, for the
// write to its row memory (read again at the earliest a cycle after, but for one word: bypassed) and for
// the output data (the max after the output registers).
module maxpool #(
    parameter int unsigned IFM_H = 4,     // input rows; >= KH
    parameter int unsigned IFM_W = 4,     // input columns; >= KW
    parameter int unsigned C = 8,         // channels; a multiple of PE
    parameter int unsigned KH = 2,        // window rows; >= 1
    parameter int unsigned KW = 2,        // window columns; >= 1
    parameter int unsigned STRIDE_H = 2,  // row stride; >= 1
    parameter int unsigned STRIDE_W = 2,  // column stride; >= 1
    parameter int unsigned PE = 8,        // channels per beat; divides C
    parameter int unsigned BITS = 1       // bits per element; 1: bits (0/1), > 1: signed integers
) (
    input  wire logic               ap_clk,
    input  wire logic               ap_rst_n,
    // input stream: PE elements of one pixel
    input  wire logic [PE*BITS-1:0] s_axis_tdata,
    input  wire logic               s_axis_tvalid,
    output logic                    s_axis_tready,
    // output stream: PE elements of one pooled pixel
    output logic      [PE*BITS-1:0] m_axis_tdata,
    output logic                    m_axis_tvalid,
    input  wire logic               m_axis_tready
);
  localparam int unsigned CF = C / PE;                        // beats per pixel
  localparam int unsigned WB = PE * BITS;                     // bits per beat
  localparam int unsigned OH = (IFM_H - KH) / STRIDE_H + 1;   // pooled rows
  localparam int unsigned OW = (IFM_W - KW) / STRIDE_W + 1;   // pooled columns
  localparam int unsigned NC = (KW - 1) / STRIDE_W + 1;       // column windows an input column is in, at most
  localparam int unsigned NR = (KH - 1) / STRIDE_H + 1;       // row windows an input row is in, at most
  localparam int unsigned QW_LAST = (IFM_W - 1) / STRIDE_W;   // column quotient of the last column
  localparam int unsigned RW_LAST = (IFM_W - 1) % STRIDE_W;   // column remainder of the last column
  localparam int unsigned QH_LAST = (IFM_H - 1) / STRIDE_H;
  localparam int unsigned RH_LAST = (IFM_H - 1) % STRIDE_H;
  localparam int unsigned ROW_WORDS = OW * CF;                 // words of one row of partial maxima
  // bits of the counters (a counter of 0 .. n-1 takes max(1, clog2(n)) bits)
  localparam int unsigned CFB = CF > 1 ? $clog2(CF) : 1;
  localparam int unsigned RWB = STRIDE_W > 1 ? $clog2(STRIDE_W) : 1;
  localparam int unsigned QWB = QW_LAST > 0 ? $clog2(QW_LAST + 1) : 1;
  localparam int unsigned NCB = NC > 1 ? $clog2(NC) : 1;
  localparam int unsigned RHB = STRIDE_H > 1 ? $clog2(STRIDE_H) : 1;
  localparam int unsigned QHB = QH_LAST > 0 ? $clog2(QH_LAST + 1) : 1;
  localparam int unsigned NRB = NR > 1 ? $clog2(NR) : 1;
  localparam int unsigned AB = ROW_WORDS > 1 ? $clog2(ROW_WORDS) : 1;

  // lane-wise max of two beats: one-bit lanes are bits (unsigned, so the max is their OR), wider lanes
  // two's complement integers
  function automatic logic [WB-1:0] lane_max(input logic [WB-1:0] a, input logic [WB-1:0] b);
    for (int unsigned p = 0; p < PE; p++) begin
      logic signed [BITS:0] x, y;  // one bit wider: bits zero-extended, integers sign-extended
      x = {BITS > 1 && a[p*BITS+BITS-1], a[p*BITS+:BITS]};
      y = {BITS > 1 && b[p*BITS+BITS-1], b[p*BITS+:BITS]};
      lane_max[p*BITS+:BITS] = x > y ? a[p*BITS+:BITS] : b[p*BITS+:BITS];
    end
  endfunction

  initial begin
    if (PE < 1 || C < 1 || C % PE != 0) $error("C must be a positive multiple of PE >= 1 (instance %m)");
    if (KH < 1 || KW < 1) $error("KH and KW must be >= 1 (instance %m)");
    if (STRIDE_H < 1 || STRIDE_W < 1) $error("STRIDE_H and STRIDE_W must be >= 1 (instance %m)");
    if (IFM_H < KH || IFM_W < KW) $error("the input must hold one window: IFM_H >= KH, IFM_W >= KW (instance %m)");
    if (BITS < 1) $error("BITS must be >= 1 (instance %m)");
  end

  // ---- position of the current input beat: channel fold, column w = qw*STRIDE_W + rw, row h = qh*STRIDE_H + rh
  logic [CFB-1:0] cf_reg;
  logic [RWB-1:0] rw_reg;
  logic [QWB-1:0] qw_reg;
  logic [NCB-1:0] qwm_reg;  // qw mod NC: the column-window slot of window qw
  logic [RHB-1:0] rh_reg;
  logic [QHB-1:0] qh_reg;
  logic [NRB-1:0] qhm_reg;  // qh mod NR: the row slot of window row qh
  logic [AB-1:0] haddr_reg;  // ow*CF + cf of the next horizontal result (they come in that order)

  wire logic accept = s_axis_tvalid && s_axis_tready;
  wire logic last_cf = 32'(cf_reg) == CF - 1;
  wire logic last_col = 32'(qw_reg) == QW_LAST && 32'(rw_reg) == RW_LAST;
  wire logic last_row = 32'(qh_reg) == QH_LAST && 32'(rh_reg) == RH_LAST;

  // ---- horizontal stage: slot j holds the partial max of column window ow = qw - k, k = (qw - j) mod NC
  logic [WB-1:0] hacc_reg[NC][CF];
  logic [WB-1:0] hacc_rd[NC];    // hacc_reg[j][cf_reg]
  logic [NC-1:0] h_write;        // slot j's window contains this column
  logic [NC*WB-1:0] h_new;       // slot j's partial max including this beat, at [j*WB +: WB]
  logic [WB-1:0] h_result;       // the finished horizontal max of a window closed by this beat
  logic          h_done;         // this beat closes a column window

  always_comb begin
    h_result = '0;
    h_done = 1'b0;
    for (int unsigned j = 0; j < NC; j++) begin
      int unsigned k;
      logic first;
      k = 32'(qwm_reg) + NC - j;  // (qw - j) mod NC
      if (k >= NC) k -= NC;
      // window qw - k exists and reaches this column
      h_write[j] = k <= 32'(qw_reg) && 32'(qw_reg) - k < OW && 32'(rw_reg) + k * STRIDE_W < KW;
      first = k == 0 && rw_reg == '0;
      h_new[j*WB+:WB] = first ? s_axis_tdata : lane_max(hacc_rd[j], s_axis_tdata);
      if (h_write[j] && 32'(rw_reg) + k * STRIDE_W == KW - 1) begin
        h_result = h_new[j*WB+:WB];
        h_done = 1'b1;
      end
    end
  end

  always_ff @(posedge ap_clk) begin
    for (int unsigned j = 0; j < NC; j++) begin
      if (accept && h_write[j]) hacc_reg[j][cf_reg] <= h_new[j*WB+:WB];
    end
  end

  if (CF == 1) begin : g_hacc_rd
    always_comb begin
      for (int unsigned j = 0; j < NC; j++) hacc_rd[j] = hacc_reg[j][0];
    end
  end else begin : g_hacc_rd
    // read at the next beat's channel fold, never the one written at this edge (CF > 1)
    wire logic [CFB-1:0] cf_nx = !ap_rst_n || (accept && last_cf) ? '0 : accept ? cf_reg + 1'b1 : cf_reg;
    always_ff @(posedge ap_clk) begin
      for (int unsigned j = 0; j < NC; j++) hacc_rd[j] <= hacc_reg[j][cf_nx];
    end
  end

  // ---- vertical stage: row slot s holds the partial maxima of window row oh = qh - k, k = (qh - s) mod NR
  // The new value is first ? h_result : lane_max(row, h_result), row = the slot's word at haddr_reg.
  logic [NR-1:0] v_emit;  // slot s closes its window row with this result
  logic [NR-1:0] v_first;  // slot s starts its window row with this result
  logic [NR*WB-1:0] v_row;  // slot s's word at haddr_reg, at [s*WB +: WB]

  for (genvar s = 0; s < NR; s++) begin : g_row
    logic [WB-1:0] row_mem[ROW_WORDS];
    int unsigned k;
    logic in_window, last;
    // a pending write: the new value of word wb_addr_reg from its registered operands
    logic wb_reg, wb_first_reg;
    logic [WB-1:0] wb_row_reg, wb_h_reg;
    logic [AB-1:0] wb_addr_reg;
    wire logic [WB-1:0] wb_value = wb_first_reg ? wb_h_reg : lane_max(wb_row_reg, wb_h_reg);
    wire logic wb_start = accept && h_done && in_window && !last;

    always_comb begin
      k = 32'(qhm_reg) + NR - s;  // (qh - s) mod NR
      if (k >= NR) k -= NR;
      in_window = k <= 32'(qh_reg) && 32'(qh_reg) - k < OH && 32'(rh_reg) + k * STRIDE_H < KH;
      last = 32'(rh_reg) + k * STRIDE_H == KH - 1;
    end

    assign v_first[s] = k == 0 && rh_reg == '0;
    assign v_emit[s] = h_done && in_window && last;
    // haddr_reg moves on with every result, so only a one-word row reads the word being written
    assign v_row[s*WB+:WB] = ROW_WORDS == 1 && wb_reg ? wb_value : row_mem[haddr_reg];

    always_ff @(posedge ap_clk) begin
      if (!ap_rst_n) wb_reg <= 1'b0;
      else wb_reg <= wb_start;
    end

    always_ff @(posedge ap_clk) begin
      if (wb_start) begin
        wb_first_reg <= v_first[s];
        wb_row_reg <= v_row[s*WB+:WB];
        wb_h_reg <= h_result;
        wb_addr_reg <= haddr_reg;
      end
      if (wb_reg) row_mem[wb_addr_reg] <= wb_value;
    end
  end

  // one window row closes per beat at most, so the OR of the masked slots selects it
  logic [WB-1:0] pooled_row;
  logic pooled_first;
  always_comb begin
    pooled_row = '0;
    pooled_first = 1'b0;
    for (int unsigned s = 0; s < NR; s++) begin
      if (v_emit[s]) pooled_row |= v_row[s*WB+:WB];
      pooled_first |= v_emit[s] && v_first[s];
    end
  end

  // ---- counters
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      cf_reg <= '0;
      rw_reg <= '0;
      qw_reg <= '0;
      qwm_reg <= '0;
      rh_reg <= '0;
      qh_reg <= '0;
      qhm_reg <= '0;
      haddr_reg <= '0;
    end else if (accept) begin
      if (h_done) haddr_reg <= 32'(haddr_reg) == ROW_WORDS - 1 ? '0 : haddr_reg + 1'b1;
      if (!last_cf) begin
        cf_reg <= cf_reg + 1'b1;
      end else begin
        cf_reg <= '0;
        if (last_col) begin
          rw_reg <= '0;
          qw_reg <= '0;
          qwm_reg <= '0;
          if (last_row) begin
            rh_reg <= '0;
            qh_reg <= '0;
            qhm_reg <= '0;
          end else if (32'(rh_reg) == STRIDE_H - 1) begin
            rh_reg <= '0;
            qh_reg <= qh_reg + 1'b1;
            qhm_reg <= 32'(qhm_reg) == NR - 1 ? '0 : qhm_reg + 1'b1;
          end else begin
            rh_reg <= rh_reg + 1'b1;
          end
        end else if (32'(rw_reg) == STRIDE_W - 1) begin
          rw_reg <= '0;
          qw_reg <= qw_reg + 1'b1;
          qwm_reg <= 32'(qwm_reg) == NC - 1 ? '0 : qwm_reg + 1'b1;
        end else begin
          rw_reg <= rw_reg + 1'b1;
        end
      end
    end
  end

  // ---- output register: the pooled beat's operands
  logic m_valid_reg, m_first_reg;
  logic [WB-1:0] m_row_reg, m_h_reg;

  assign s_axis_tready = !m_valid_reg || m_axis_tready;
  assign m_axis_tvalid = m_valid_reg;
  assign m_axis_tdata = m_first_reg ? m_h_reg : lane_max(m_row_reg, m_h_reg);

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) m_valid_reg <= 1'b0;
    else if (s_axis_tready) m_valid_reg <= accept && v_emit != '0;
  end

  always_ff @(posedge ap_clk) begin
    if (accept && v_emit != '0) begin
      m_first_reg <= pooled_first;
      m_row_reg <= pooled_row;
      m_h_reg <= h_result;
    end
  end
endmodule
`default_nettype wire
