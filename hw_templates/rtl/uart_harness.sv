// signflow uart_harness: frames over a UART through an AXI-stream accelerator (signflow_top's ports).
//
// Host -> board:  0xA5, LEN (2 bytes, little-endian), LEN payload bytes, CHK
// Board -> host:  0x5A, LEN (2 bytes, little-endian), LEN output bytes, CHK    (a good frame)
//                 0xEE, CODE                                                   (a bad frame)
// CHK: XOR of the LEN bytes and the payload bytes. LEN must equal IN_BYTES = IN_BEATS * ceil(IN_WIDTH / 8).
// CODE: 0x01 wrong length (the rest of the frame is discarded until the line is idle for TIMEOUT_CLKS),
//       0x02 bad checksum, 0x03 truncated frame (no byte for TIMEOUT_CLKS cycles inside a frame).
// Bytes outside a frame other than 0xA5 are ignored. Payload: beat after beat, each beat's ceil(width / 8)
// bytes little-endian (lane 0 in the lowest bits), as the PYNQ driver packs a DMA word of the beat's width.
// A good frame is fed as IN_BEATS beats; the OUT_BEATS output beats are collected and sent back the same way.
// Both buffers are shift registers (bytes shift in at the top, beats and bytes leave at the bottom), so no
// path selects a beat or a byte by index: wide frames (LFC: 98 bytes) do not slow the clock.
`default_nettype none
module uart_harness #(
    parameter int CLKS_PER_BIT = 217,
    parameter int IN_WIDTH = 8,
    parameter int IN_BEATS = 1,
    parameter int OUT_WIDTH = 8,
    parameter int OUT_BEATS = 1,
    parameter int TIMEOUT_CLKS = 40 * CLKS_PER_BIT
) (
    input  wire logic ap_clk,
    input  wire logic ap_rst_n,
    input  wire logic uart_rx,
    output logic      uart_tx,
    // the accelerator
    output logic [IN_WIDTH-1:0]  s_axis_tdata,
    output logic                 s_axis_tvalid,
    input  wire logic            s_axis_tready,
    input  wire logic [OUT_WIDTH-1:0] m_axis_tdata,
    input  wire logic            m_axis_tvalid,
    output logic                 m_axis_tready
);
  localparam int IB = (IN_WIDTH + 7) / 8, OB = (OUT_WIDTH + 7) / 8;
  localparam int IN_BYTES = IN_BEATS * IB, OUT_BYTES = OUT_BEATS * OB;
  localparam int TW = $clog2(TIMEOUT_CLKS + 1);

  logic [7:0] rx_data;
  logic rx_valid;
  logic [7:0] tx_data;
  logic tx_valid, tx_ready;
  uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) rx_i (.ap_clk, .ap_rst_n, .rx(uart_rx), .o_data(rx_data), .o_valid(rx_valid));
  uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) tx_i (.ap_clk, .ap_rst_n, .i_data(tx_data), .i_valid(tx_valid),
                                               .o_ready(tx_ready), .tx(uart_tx));

  logic [IN_BYTES*8-1:0] in_sr;    // byte k of the frame in bits 8k +: 8 once received; beat 0 at the bottom
  logic [OUT_BYTES*8-1:0] out_sr;  // byte k of the reply in bits 8k +: 8 once collected; sent from the bottom

  typedef enum logic [3:0] {IDLE, LEN0, LEN1, PAYLOAD, CHECK, DISCARD, FEED, SEND, ERROR} state_t;
  state_t state;
  logic [15:0] length, index;
  logic [7:0] chk, code;
  logic [TW-1:0] idle;
  logic [31:0] in_beat, out_beat;   // beats fed / collected
  logic [31:0] send_index;          // byte of the reply being sent

  assign s_axis_tdata = in_sr[IN_WIDTH-1:0];
  assign s_axis_tvalid = state == FEED && in_beat < IN_BEATS;
  assign m_axis_tready = state == FEED && out_beat < OUT_BEATS;

  // the reply: good [5A, LEN lo, LEN hi, bytes, CHK] or error [EE, CODE]
  always_comb begin
    tx_valid = 1'b0;
    tx_data = 8'h00;
    if (state == SEND) begin
      tx_valid = 1'b1;
      if (send_index == 0) tx_data = 8'h5A;
      else if (send_index == 1) tx_data = 8'(OUT_BYTES);
      else if (send_index == 2) tx_data = 8'(OUT_BYTES >> 8);
      else if (send_index < OUT_BYTES + 3) tx_data = out_sr[7:0];
      else tx_data = chk;
    end else if (state == ERROR) begin
      tx_valid = 1'b1;
      tx_data = send_index == 0 ? 8'hEE : code;
    end
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      state <= IDLE;
      length <= '0;
      index <= '0;
      chk <= '0;
      code <= '0;
      idle <= '0;
      in_beat <= '0;
      out_beat <= '0;
      send_index <= '0;
    end else begin
      // inside a frame, an idle gap of TIMEOUT_CLKS ends it
      if (rx_valid || state == IDLE || state == FEED || state == SEND || state == ERROR) idle <= '0;
      else if (idle != TW'(TIMEOUT_CLKS)) idle <= idle + 1'b1;
      case (state)
        IDLE: if (rx_valid && rx_data == 8'hA5) begin
          state <= LEN0;
          chk <= 8'h00;
        end
        LEN0: if (rx_valid) begin
          length[7:0] <= rx_data;
          chk <= chk ^ rx_data;
          state <= LEN1;
        end
        LEN1: if (rx_valid) begin
          length[15:8] <= rx_data;
          chk <= chk ^ rx_data;
          index <= '0;
          if ({rx_data, length[7:0]} != 16'(IN_BYTES)) begin
            code <= 8'h01;
            state <= DISCARD;
          end else begin
            state <= PAYLOAD;
          end
        end
        PAYLOAD: if (rx_valid) begin
          in_sr <= (IN_BYTES * 8)'({rx_data, in_sr} >> 8);  // also for a 1-byte frame
          chk <= chk ^ rx_data;
          index <= index + 1'b1;
          if (index == 16'(IN_BYTES - 1)) state <= CHECK;
        end
        CHECK: if (rx_valid) begin
          if (rx_data != chk) begin
            code <= 8'h02;
            send_index <= '0;
            state <= ERROR;
          end else begin
            in_beat <= '0;
            out_beat <= '0;
            chk <= 8'(OUT_BYTES) ^ 8'(OUT_BYTES >> 8);
            state <= FEED;
          end
        end
        DISCARD: if (idle == TW'(TIMEOUT_CLKS)) begin  // the rest of a frame of the wrong length
          send_index <= '0;
          state <= ERROR;
        end
        FEED: begin
          if (s_axis_tvalid && s_axis_tready) begin
            in_sr <= in_sr >> (IB * 8);
            in_beat <= in_beat + 1;
          end
          if (m_axis_tvalid && m_axis_tready) begin
            out_sr <= (OUT_BYTES * 8)'({(OB * 8)'(m_axis_tdata), out_sr} >> (OB * 8));
            out_beat <= out_beat + 1;
          end
          if (out_beat == OUT_BEATS && in_beat == IN_BEATS) begin
            send_index <= '0;
            state <= SEND;
          end
        end
        SEND: if (tx_ready) begin
          if (send_index >= 3 && send_index < OUT_BYTES + 3) begin
            chk <= chk ^ out_sr[7:0];
            out_sr <= out_sr >> 8;
          end
          send_index <= send_index + 1;
          if (send_index == OUT_BYTES + 3) state <= IDLE;
        end
        ERROR: if (tx_ready) begin
          send_index <= send_index + 1;
          if (send_index == 1) state <= IDLE;
        end
        default: state <= IDLE;
      endcase
      if (state == LEN0 || state == LEN1 || state == PAYLOAD || state == CHECK)
        if (!rx_valid && idle == TW'(TIMEOUT_CLKS)) begin
          code <= 8'h03;
          send_index <= '0;
          state <= ERROR;
        end
    end
  end
endmodule
`default_nettype wire
