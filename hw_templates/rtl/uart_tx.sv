// signflow uart_tx: 8N1 UART transmitter. CLKS_PER_BIT clock cycles per bit. A byte is taken when
// i_valid && o_ready; o_ready is low while a frame (start, 8 data bits LSB first, stop) is on the line.
`default_nettype none
module uart_tx #(
    parameter int CLKS_PER_BIT = 217
) (
    input  wire logic       ap_clk,
    input  wire logic       ap_rst_n,
    input  wire logic [7:0] i_data,
    input  wire logic       i_valid,
    output logic            o_ready,
    output logic            tx
);
  localparam int CW = $clog2(CLKS_PER_BIT + 1);
  logic [CW-1:0] count;
  logic [3:0] bit_index;
  logic [9:0] frame;
  assign o_ready = bit_index == 0;
  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      tx <= 1'b1;
      count <= '0;
      bit_index <= '0;
      frame <= '1;
    end else if (bit_index == 0) begin
      if (i_valid) begin
        frame <= {1'b1, i_data, 1'b0};
        bit_index <= 4'd11;  // 10 bits, then a step that ends the stop bit
        count <= '0;
      end
    end else if (count != 0) begin
      count <= count - 1'b1;
    end else begin
      tx <= frame[0];
      frame <= {1'b1, frame[9:1]};
      count <= CW'(CLKS_PER_BIT - 1);
      bit_index <= bit_index - 1'b1;
    end
  end
endmodule
`default_nettype wire
