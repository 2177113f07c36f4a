// signflow uart_rx: 8N1 UART receiver. CLKS_PER_BIT clock cycles per bit (clock / baud, at least 4).
// rx is synchronized by two flops; a start bit is confirmed at its middle; data bits are sampled at their
// middles, LSB first. o_valid pulses one cycle with o_data when the stop bit (sampled high) arrives; a low stop
// bit (framing error) drops the byte. Idle line high.
`default_nettype none
module uart_rx #(
    parameter int CLKS_PER_BIT = 217
) (
    input  wire logic       ap_clk,
    input  wire logic       ap_rst_n,
    input  wire logic       rx,
    output logic [7:0]      o_data,
    output logic            o_valid
);
  localparam int CW = $clog2(CLKS_PER_BIT + 1);
  logic [1:0] sync;
  logic [CW-1:0] count;
  logic [3:0] bit_index;
  logic busy;
  logic [7:0] shift;
  wire line = sync[1];
  always_ff @(posedge ap_clk) begin
    o_valid <= 1'b0;
    if (!ap_rst_n) begin
      sync <= 2'b11;
      busy <= 1'b0;
      count <= '0;
      bit_index <= '0;
      shift <= '0;
      o_data <= '0;
    end else begin
      sync <= {sync[0], rx};
      if (!busy) begin
        if (!line) begin  // a start bit: confirm it at its middle
          busy <= 1'b1;
          count <= CW'(CLKS_PER_BIT / 2);
          bit_index <= '0;
        end
      end else if (count != 0) begin
        count <= count - 1'b1;
      end else begin
        count <= CW'(CLKS_PER_BIT - 1);
        if (bit_index == 0) begin
          if (line) busy <= 1'b0;  // a glitch, not a start bit
          bit_index <= 4'd1;
        end else if (bit_index <= 4'd8) begin
          shift <= {line, shift[7:1]};
          bit_index <= bit_index + 1'b1;
        end else begin  // the stop bit
          busy <= 1'b0;
          if (line) begin
            o_data <= shift;
            o_valid <= 1'b1;
          end
        end
      end
    end
  end
endmodule
`default_nettype wire
