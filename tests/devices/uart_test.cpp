// 16550A UART: registers, FIFOs, interrupt causes and priorities, timing,
// backends, fault filters, save/load.
#include "devices/uart/uart.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "devices/uart/shared_irq.h"
#include "tests/devices/serial_test_support.h"

namespace faultline {
namespace {

using namespace uart_reg;
using serial_test::ManualTime;
using serial_test::RecordingIrq;

class UartTest : public ::testing::Test {
 protected:
  UartTest() : uart("com1", irq, &time) { uart.set_backend(out); }

  uint8_t rd(uint32_t off) { return static_cast<uint8_t>(uart.read(off, 1)); }
  void wr(uint32_t off, uint8_t v) { uart.write(off, 1, v); }
  // 115200 baud 8N1.
  void program_115200_8n1() {
    wr(kLcr, kLcrDlab);
    wr(kData, 1);
    wr(kIer, 0);
    wr(kLcr, 0x03);
  }
  uint8_t iir() { return rd(kIir); }

  ManualTime time;
  RecordingIrq irq;
  std::shared_ptr<uart::MemoryBackend> out = std::make_shared<uart::MemoryBackend>();
  Uart uart;
};

TEST_F(UartTest, ResetState) {
  EXPECT_EQ(rd(kIir), 0x01);
  EXPECT_EQ(rd(kLsr), kLsrThre | kLsrTemt);
  EXPECT_EQ(rd(kLcr), 0);
  EXPECT_EQ(rd(kMcr), 0);
  EXPECT_FALSE(irq.level);
}

TEST_F(UartTest, DivisorLatchIsBehindDlab) {
  wr(kLcr, kLcrDlab | 0x03);
  wr(kData, 0x34);
  wr(kIer, 0x12);
  EXPECT_EQ(rd(kData), 0x34);
  EXPECT_EQ(rd(kIer), 0x12);
  EXPECT_EQ(uart.divisor(), 0x1234u);
  wr(kLcr, 0x03);
  // Without DLAB the same offsets are THR/RBR and IER.
  EXPECT_EQ(rd(kIer), 0x00);
  wr(kData, 'x');
  EXPECT_EQ(out->output(), "x");
  EXPECT_EQ(uart.divisor(), 0x1234u);
  // 10 bits per character at 115200 / divisor.
  program_115200_8n1();
  EXPECT_EQ(uart.character_time_ns(), 10ull * 1'000'000'000 / 115200);
  wr(kLcr, 0x1F);  // 8 data, parity, 2 stop: 12 bits
  EXPECT_EQ(uart.character_time_ns(), 12ull * 1'000'000'000 / 115200);
}

TEST_F(UartTest, ScratchRegister) {
  wr(kScr, 0xA5);
  EXPECT_EQ(rd(kScr), 0xA5);
}

TEST_F(UartTest, LoopbackEchoesAndMapsModemLines) {
  wr(kMcr, kMcrLoop | kMcrDtr | kMcrRts);
  wr(kData, 'A');
  EXPECT_EQ(out->output(), "");  // nothing leaves the chip in loopback
  EXPECT_TRUE(rd(kLsr) & kLsrDr);
  EXPECT_EQ(rd(kData), 'A');
  EXPECT_FALSE(rd(kLsr) & kLsrDr);
  EXPECT_EQ(rd(kMsr) & 0xF0, kMsrCts | kMsrDsr);
  wr(kMcr, kMcrLoop | kMcrOut1 | kMcrOut2);
  uint8_t msr = rd(kMsr);
  EXPECT_EQ(msr & 0xF0, kMsrRi | kMsrDcd);
  EXPECT_EQ(msr & 0x0F, kMsrDcts | kMsrDdsr | kMsrDdcd);  // RI rose: no TERI
  EXPECT_EQ(rd(kMsr) & 0x0F, 0);                          // deltas clear on read
  wr(kMcr, kMcrLoop);
  EXPECT_EQ(rd(kMsr) & 0x0F, kMsrTeri | kMsrDdcd);  // RI fell: trailing edge
}

TEST_F(UartTest, HostInputWaitsDuringLoopback) {
  wr(kMcr, kMcrLoop);
  uart.receive("hi");
  EXPECT_FALSE(rd(kLsr) & kLsrDr);
  wr(kMcr, 0);
  EXPECT_EQ(rd(kData), 'h');
  EXPECT_EQ(rd(kData), 'i');
}

TEST_F(UartTest, FifoTriggerLevelInterrupt) {
  program_115200_8n1();
  wr(kFcr, 0x81);  // FIFO on, trigger 8
  wr(kIer, kIerRxData);
  wr(kMcr, kMcrOut2);
  uart.receive("1234567");
  EXPECT_EQ(iir(), 0xC1);  // 7 < 8 and no timeout yet
  EXPECT_FALSE(irq.level);
  uart.receive("8");
  EXPECT_EQ(iir(), 0xC4);
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(rd(kData), '1');
  EXPECT_EQ(iir(), 0xC1);  // back below the trigger level
  EXPECT_FALSE(irq.level);
  EXPECT_EQ(uart.rx_fifo_level(), 7u);
}

TEST_F(UartTest, FifoTriggerLevels) {
  wr(kIer, kIerRxData);
  const int levels[4] = {1, 4, 8, 14};
  for (int sel = 0; sel < 4; ++sel) {
    wr(kFcr, static_cast<uint8_t>(kFcrEnable | kFcrRxReset | (sel << 6)));
    for (int i = 0; i < levels[sel] - 1; ++i) uart.receive("x");
    EXPECT_NE(iir() & 0x0F, kIirRxData) << "level " << levels[sel];
    uart.receive("x");
    EXPECT_EQ(iir() & 0x0F, kIirRxData) << "level " << levels[sel];
  }
}

TEST_F(UartTest, FifoResetAndSixteenBytes) {
  wr(kFcr, kFcrEnable);
  uart.receive(std::string(20, 'z'));
  EXPECT_EQ(uart.rx_fifo_level(), 16u);  // instant input waits for room
  EXPECT_EQ(uart.pending_host_input(), 4u);
  wr(kFcr, kFcrEnable | kFcrRxReset);
  EXPECT_EQ(uart.rx_fifo_level(), 4u);  // cleared, then the rest arrived
  EXPECT_EQ(uart.pending_host_input(), 0u);
  EXPECT_EQ(rd(kLsr) & kLsrOe, 0);
}

TEST_F(UartTest, ThreInterruptAfterWrite) {
  wr(kMcr, kMcrOut2);
  wr(kIer, kIerThre);  // enabling with an empty THR raises it at once
  EXPECT_EQ(iir(), kIirThre);
  EXPECT_EQ(iir(), kIirNone);  // reading IIR acknowledged it
  EXPECT_FALSE(irq.level);
  wr(kData, 'a');
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(iir(), kIirThre);
  EXPECT_EQ(out->output(), "a");
}

TEST_F(UartTest, TimedTransmitTakesOneCharacterTime) {
  uart.set_timed(true);
  program_115200_8n1();
  wr(kMcr, kMcrOut2);
  wr(kIer, kIerThre);
  EXPECT_EQ(iir(), kIirThre);
  wr(kData, 'a');
  // THR moved to the shift register at once: THRE set, TEMT not.
  EXPECT_EQ(rd(kLsr) & (kLsrThre | kLsrTemt), kLsrThre);
  EXPECT_EQ(iir(), kIirThre);
  wr(kData, 'b');
  EXPECT_EQ(rd(kLsr) & (kLsrThre | kLsrTemt), 0);
  EXPECT_EQ(iir(), kIirNone);
  uint64_t ct = uart.character_time_ns();
  time.advance(ct - 1);
  EXPECT_EQ(out->output(), "");
  time.advance(1);
  EXPECT_EQ(out->output(), "a");
  EXPECT_EQ(iir(), kIirThre);
  time.advance(ct);
  EXPECT_EQ(out->output(), "ab");
  EXPECT_EQ(rd(kLsr) & (kLsrThre | kLsrTemt), kLsrThre | kLsrTemt);
}

TEST_F(UartTest, TimedReceiveOverrunsWhenGuestIsSlow) {
  uart.set_timed(true);
  program_115200_8n1();
  uart.receive("xy");  // FIFO off: one-byte holding register
  time.advance(uart.character_time_ns());
  EXPECT_EQ(rd(kLsr) & (kLsrDr | kLsrOe), kLsrDr);
  time.advance(uart.character_time_ns());
  EXPECT_EQ(rd(kLsr) & (kLsrDr | kLsrOe), kLsrDr | kLsrOe);
  EXPECT_EQ(rd(kLsr) & kLsrOe, 0);  // OE clears on read
  EXPECT_EQ(rd(kData), 'y');        // the newer byte overwrote the older
  EXPECT_EQ(uart.rx_overruns(), 1u);
}

TEST_F(UartTest, IirPriorityOrder) {
  wr(kMcr, kMcrOut2);
  wr(kIer, 0x0F);
  uart.receive_with_error('p', kLsrPe);
  uart.set_modem_inputs(false, true, false, true);  // CTS dropped: DCTS
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(iir(), kIirLineStatus);
  EXPECT_EQ(rd(kLsr) & (kLsrPe | kLsrDr), kLsrPe | kLsrDr);
  EXPECT_EQ(iir(), kIirRxData);
  EXPECT_EQ(rd(kData), 'p');
  EXPECT_EQ(iir(), kIirThre);
  EXPECT_EQ(iir(), kIirModem);  // THRE was acknowledged by the read above
  EXPECT_EQ(rd(kMsr) & 0x0F, kMsrDcts);
  EXPECT_EQ(iir(), kIirNone);
  EXPECT_FALSE(irq.level);
}

TEST_F(UartTest, LineStatusBits) {
  EXPECT_EQ(rd(kLsr), kLsrThre | kLsrTemt);
  // Overrun through loopback (FIFO off): the second byte overwrites.
  wr(kMcr, kMcrLoop);
  wr(kData, '1');
  wr(kData, '2');
  EXPECT_EQ(rd(kLsr), kLsrDr | kLsrOe | kLsrThre | kLsrTemt);
  EXPECT_EQ(rd(kLsr), kLsrDr | kLsrThre | kLsrTemt);
  EXPECT_EQ(rd(kData), '2');
  wr(kMcr, 0);
  // Break: a zero character with BI and FE; in FIFO mode also bit 7.
  wr(kFcr, kFcrEnable);
  uart.inject_break();
  EXPECT_EQ(rd(kLsr), kLsrDr | kLsrBi | kLsrFe | kLsrThre | kLsrTemt | kLsrFifoError);
  EXPECT_EQ(rd(kData), 0);
  EXPECT_EQ(rd(kLsr), kLsrThre | kLsrTemt);
}

TEST_F(UartTest, Out2GatesTheIrqLine) {
  wr(kIer, kIerThre);
  EXPECT_EQ(rd(kIir) & 1, 0) << "pending inside the chip";
  wr(kIer, 0);
  wr(kIer, kIerThre);
  EXPECT_FALSE(irq.level);
  wr(kMcr, kMcrOut2);
  EXPECT_TRUE(irq.level);
  wr(kMcr, kMcrOut2 | kMcrLoop);  // OUT2 pin forced inactive in loopback
  EXPECT_FALSE(irq.level);
  wr(kMcr, 0);
  EXPECT_FALSE(irq.level);
}

TEST_F(UartTest, CharacterTimeout) {
  program_115200_8n1();
  wr(kFcr, 0xC1);  // trigger 14
  wr(kIer, kIerRxData);
  wr(kMcr, kMcrOut2);
  uint64_t ct = uart.character_time_ns();
  uart.receive("abc");
  time.advance(2 * ct);
  uart.receive("d");  // activity restarts the timer
  time.advance(3 * ct);
  EXPECT_EQ(iir(), 0xC1);
  EXPECT_FALSE(irq.level);
  time.advance(ct);
  EXPECT_EQ(iir(), 0xCC);
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(rd(kData), 'a');  // reading clears it and restarts the timer
  EXPECT_EQ(iir(), 0xC1);
  EXPECT_FALSE(irq.level);
  time.advance(4 * ct);
  EXPECT_EQ(iir(), 0xCC);
  rd(kData), rd(kData), rd(kData);
  EXPECT_EQ(iir(), 0xC1);
  time.advance(10 * ct);
  EXPECT_EQ(iir(), 0xC1);  // an empty FIFO never times out
  EXPECT_EQ(time.pending(), 0u);
}

TEST_F(UartTest, MemoryBackendCapturesOutputAndObserves) {
  std::string seen;
  out->set_observer([&](uint8_t b) { seen.push_back(static_cast<char>(b)); });
  for (char c : std::string("boot ok\n")) wr(kData, static_cast<uint8_t>(c));
  EXPECT_EQ(out->output(), "boot ok\n");
  EXPECT_EQ(seen, "boot ok\n");
  out->clear();
  EXPECT_EQ(out->output(), "");
}

TEST_F(UartTest, NoBackendDiscardsOutput) {
  uart.set_backend(nullptr);
  wr(kData, 'a');
  EXPECT_EQ(rd(kLsr) & kLsrTemt, kLsrTemt);
}

TEST_F(UartTest, FiltersDropAndCorruptBytes) {
  uart.tx_filter = [](uint8_t& b) {
    if (b == 'b') return false;
    if (b == 'c') b = 'C';
    return true;
  };
  for (char c : std::string("abcd")) wr(kData, static_cast<uint8_t>(c));
  EXPECT_EQ(out->output(), "aCd");
  int seen = 0;
  uart.rx_filter = [&](uint8_t&) { return ++seen != 2; };  // drop the 2nd byte
  wr(kFcr, kFcrEnable);
  uart.receive("xyz");
  EXPECT_EQ(rd(kData), 'x');
  EXPECT_EQ(rd(kData), 'z');
  EXPECT_FALSE(rd(kLsr) & kLsrDr);
}

TEST_F(UartTest, SaveLoadSaveRoundTrip) {
  uart.set_timed(true);
  program_115200_8n1();
  wr(kFcr, 0x41);
  wr(kIer, 0x0F);
  wr(kMcr, kMcrOut2 | kMcrDtr);
  wr(kScr, 0x5A);
  uart.receive("hello");
  time.advance(2 * uart.character_time_ns() + 5);
  wr(kData, 'q');
  wr(kData, 'r');
  uart.receive_with_error('!', kLsrFe);
  std::string first = uart.save();

  ManualTime time2;
  time2.advance(time.now_ns() - time2.now_ns());
  RecordingIrq irq2;
  auto out2 = std::make_shared<uart::MemoryBackend>();
  Uart copy("com1", irq2, &time2);
  copy.set_backend(out2);
  copy.load(first);
  copy.after_load();
  EXPECT_EQ(copy.save(), first);
  EXPECT_EQ(irq2.level, irq.level);
  // Both continue identically.
  time.advance(20 * uart.character_time_ns());
  time2.advance(20 * uart.character_time_ns());
  EXPECT_EQ(out2->output(), out->output());
  EXPECT_EQ(out2->output(), "qr");
  EXPECT_EQ(copy.save(), uart.save());
  EXPECT_EQ(copy.rx_fifo_level(), 6u);  // "hello" and the faulty "!"
}

TEST_F(UartTest, LoadRejectsGarbageAndUnknownVersion) {
  EXPECT_THROW(uart.load("\xff\xff\xff"), std::runtime_error);
  std::string s = uart.save();
  s[1] = 99;  // field 1 (version) is the first varint
  EXPECT_THROW(uart.load(s), std::runtime_error);
}

}  // namespace
}  // namespace faultline

namespace faultline {
namespace {

TEST(UartSharedIrqTest, TwoPortsOnOneLine) {
  serial_test::RecordingIrq line;
  SharedIrq irq4(line);
  Uart com1("com1", irq4.add_input());
  Uart com3("com3", irq4.add_input());
  // COM1 requests THRE; COM3 stays quiet and must not cancel it.
  com1.write(uart_reg::kMcr, 1, uart_reg::kMcrOut2);
  com1.write(uart_reg::kIer, 1, uart_reg::kIerThre);
  EXPECT_TRUE(line.level);
  com3.write(uart_reg::kMcr, 1, uart_reg::kMcrOut2);
  com3.write(uart_reg::kIer, 1, uart_reg::kIerThre);
  com3.read(uart_reg::kIir, 1);  // acknowledges COM3's THRE
  EXPECT_FALSE(com3.irq_level());
  EXPECT_TRUE(line.level);
  com1.read(uart_reg::kIir, 1);
  EXPECT_FALSE(line.level);
  EXPECT_EQ(line.rising_edges, 1);
  EXPECT_EQ(kPcComPorts[2].base, 0x3E8);
  EXPECT_EQ(kPcComPorts[2].irq, 4);
}

}  // namespace
}  // namespace faultline
