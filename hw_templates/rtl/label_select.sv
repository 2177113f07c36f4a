// Language: SystemVerilog 2017
`default_nettype none
// label_select: the index of the largest of NUM signed scores per frame (argmax; ties go to the lowest index).
//
// out = min { i : score[i] = max_j score[j] }, as numpy's argmax.
//
// Layout: an input beat holds PE signed BITS-bit scores, indices b*PE .. b*PE+PE-1 of beat b (lane p at
// bits [p*BITS +: BITS]); NUM/PE beats per frame. One output beat per frame: the index, unsigned, in
// IDX_BITS = max(1, clog2(NUM)) bits.
//
// Structure: each beat's lanes are scanned from lane 0 up (a later lane wins only when strictly larger)
// and merged with the running best the same way. The result is registered; the next frame's beats
// are taken while it waits, only a frame's last beat waits for the output register. One beat per
// cycle: NUM / PE cycles per frame.
module label_select #(
    parameter int unsigned NUM = 10,  // scores per frame; a multiple of PE
    parameter int unsigned PE = 1,    // scores per beat; divides NUM
    parameter int unsigned BITS = 8,  // bits of a signed score; >= 1
    localparam int unsigned IDX_BITS = NUM > 1 ? $clog2(NUM) : 1  // bits of the output index
) (
    input  wire logic                 ap_clk,
    input  wire logic                 ap_rst_n,
    // input stream: PE signed scores
    input  wire logic [PE*BITS-1:0]   s_axis_tdata,
    input  wire logic                 s_axis_tvalid,
    output logic                      s_axis_tready,
    // output stream: the index of the largest score, one beat per frame
    output logic      [IDX_BITS-1:0]  m_axis_tdata,
    output logic                      m_axis_tvalid,
    input  wire logic                 m_axis_tready
);
  localparam int unsigned BEATS = NUM / PE;  // beats per frame
  localparam int unsigned BB = BEATS > 1 ? $clog2(BEATS) : 1;

  initial begin
    if (PE < 1 || NUM < 1 || NUM % PE != 0) $error("NUM must be a positive multiple of PE >= 1 (instance %m)");
    if (BITS < 1) $error("BITS must be >= 1 (instance %m)");
  end

  logic [BB-1:0] beat_reg;                // beat within the frame
  logic [IDX_BITS-1:0] base_reg;          // index of lane 0 of the current beat: beat * PE
  logic signed [BITS-1:0] best_score_reg; // best of the frame's earlier beats
  logic [IDX_BITS-1:0] best_index_reg;
  logic m_valid_reg;
  logic [IDX_BITS-1:0] m_data_reg;

  wire logic first_beat = beat_reg == '0;
  wire logic last_beat = 32'(beat_reg) == BEATS - 1;
  assign s_axis_tready = !last_beat || !m_valid_reg || m_axis_tready;
  wire logic accept = s_axis_tvalid && s_axis_tready;
  assign m_axis_tvalid = m_valid_reg;
  assign m_axis_tdata = m_data_reg;

  // best of this beat, then merged with the running best (earlier indices win ties)
  logic signed [BITS-1:0] beat_score, new_score;
  logic [IDX_BITS-1:0] beat_index, new_index;
  always_comb begin
    beat_score = $signed(s_axis_tdata[BITS-1:0]);
    beat_index = base_reg;
    for (int unsigned p = 1; p < PE; p++) begin
      if ($signed(s_axis_tdata[p*BITS+:BITS]) > beat_score) begin
        beat_score = $signed(s_axis_tdata[p*BITS+:BITS]);
        beat_index = IDX_BITS'(32'(base_reg) + p);
      end
    end
    if (first_beat || beat_score > best_score_reg) begin
      new_score = beat_score;
      new_index = beat_index;
    end else begin
      new_score = best_score_reg;
      new_index = best_index_reg;
    end
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      beat_reg <= '0;
      base_reg <= '0;
      m_valid_reg <= 1'b0;
    end else begin
      if (m_axis_tready) m_valid_reg <= 1'b0;
      if (accept) begin
        if (last_beat) begin
          beat_reg <= '0;
          base_reg <= '0;
          m_valid_reg <= 1'b1;
        end else begin
          beat_reg <= beat_reg + 1'b1;
          base_reg <= IDX_BITS'(32'(base_reg) + PE);
        end
      end
    end
  end

  always_ff @(posedge ap_clk) begin
    if (accept) begin
      best_score_reg <= new_score;
      best_index_reg <= new_index;
      if (last_beat) m_data_reg <= new_index;
    end
  end
endmodule
`default_nettype wire
