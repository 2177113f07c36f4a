// signflow UART board simulation: the board top (flow/codegen/harness.py) in Verilator with a UART on the
// host side, bridged to a file descriptor (a pty master).   uart_board FD CLKS_PER_BIT MAX_SECONDS
// Bytes read from FD are sent to the top's uart_rx, 8N1; bytes decoded from uart_tx are written to FD.
// Exits when FD is closed (EOF or EIO) or after MAX_SECONDS of wall time.
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <fcntl.h>
#include <memory>
#include <unistd.h>

#include "Vsignflow_board_top.h"
#include "verilated.h"

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  const int fd = std::atoi(argv[1]);
  const int cpb = std::atoi(argv[2]);
  const double max_seconds = std::atof(argv[3]);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  auto context = std::make_unique<VerilatedContext>();
  auto top = std::make_unique<Vsignflow_board_top>(context.get());
  const auto start = std::chrono::steady_clock::now();
  std::deque<uint8_t> pending;
  int tx_bit = -1, tx_count = 0;  // host -> board: bit -1 idle, 0 start, 1..8 data, 9 stop
  uint16_t tx_frame = 0;
  int rx_bit = -1, rx_count = 0;  // board -> host
  uint8_t rx_byte = 0;
  top->uart_rx = 1;
  for (uint64_t cycle = 0;; ++cycle) {
    if (cycle % (uint64_t)(cpb * 4) == 0) {
      uint8_t buf[256];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) pending.insert(pending.end(), buf, buf + n);
      else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) break;
      if (cycle % (uint64_t)(cpb * 4000) == 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > max_seconds) break;
    }
    // host-side transmitter
    if (tx_bit < 0 && !pending.empty()) {
      tx_frame = (uint16_t)((1u << 9) | ((unsigned)pending.front() << 1));
      pending.pop_front();
      tx_bit = 0;
      tx_count = 0;
    }
    if (tx_bit >= 0) {
      top->uart_rx = (tx_frame >> tx_bit) & 1;
      if (++tx_count == cpb) {
        tx_count = 0;
        if (++tx_bit == 10) tx_bit = -1;
      }
    } else {
      top->uart_rx = 1;
    }
    top->rst_n = cycle >= 16;  // reset for the first 16 cycles, as the ECP5 pin top does after the PLL locks
    top->clk = 0;
    top->eval();
    top->clk = 1;
    top->eval();
    // host-side receiver: sample in the middle of each bit
    const int line = top->uart_tx;
    if (rx_bit < 0) {
      if (!line) { rx_bit = 0; rx_count = 0; }
    } else if (++rx_count == (rx_bit == 0 ? cpb / 2 : cpb)) {
      rx_count = 0;
      if (rx_bit == 0) {
        rx_bit = line ? -1 : 1;
        rx_byte = 0;
      } else if (rx_bit <= 8) {
        rx_byte |= (uint8_t)(line << (rx_bit - 1));
        ++rx_bit;
      } else {
        if (line) { ssize_t w = write(fd, &rx_byte, 1); (void)w; }
        rx_bit = -1;
      }
    }
  }
  top->final();
  return 0;
}
