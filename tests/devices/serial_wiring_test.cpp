// The UART, i8042 and system ports wired the way the platform wires them:
// registered on a Machine's bus at their PC ports (the i8042 as two one-port
// ranges so 0x61 stays free), IRQ lines into the PicPair, timing from the
// Machine's virtual clock through MachineTimeSource.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/machine.h"
#include "devices/i8042/i8042.h"
#include "devices/misc/misc.h"
#include "devices/pic/pic.h"
#include "devices/time_source.h"
#include "devices/uart/shared_irq.h"
#include "devices/uart/uart.h"

namespace faultline {
namespace {

// Registers `device` at `port`, the device seeing offsets from `first_offset`.
void attach(Bus& bus, uint16_t port, uint32_t length, Device& device, uint32_t first_offset = 0) {
  bus.register_io(port, length, device.name(),
                  IoHandler{[&device, first_offset](uint32_t off, unsigned size) {
                              return device.read(first_offset + off, size);
                            },
                            [&device, first_offset](uint32_t off, unsigned size, uint32_t v) {
                              device.write(first_offset + off, size, v);
                            }});
}

class SerialWiringTest : public ::testing::Test {
 protected:
  SerialWiringTest() {
    for (uint8_t v : {0x11, 0x08, 0x04, 0x01, 0x00}) pic.master().write(v == 0x11 ? 0 : 1, 1, v);
    for (uint8_t v : {0x11, 0x70, 0x02, 0x01, 0x00}) pic.slave().write(v == 0x11 ? 0 : 1, 1, v);
    Bus& bus = machine.bus();
    attach(bus, kPcComPorts[0].base, 8, com1);
    attach(bus, kPcComPorts[2].base, 8, com3);
    attach(bus, 0x60, 1, kbc, i8042::kDataOffset);
    attach(bus, 0x64, 1, kbc, i8042::kStatusOffset);
    attach(bus, 0x80, 1, post);
    attach(bus, 0x92, 1, port92);
    com1.set_backend(com1_out);
    kbc.a20 = [this](bool on) { a20_kbc = on; };
    port92.a20 = [this](bool on) { a20_92 = on; };
    kbc.cpu_reset = [this] {
      machine.cpu().request_stop(StopReason::Requested);
      ++resets;
    };
  }

  void run_to(uint64_t ns) {
    Cpu& cpu = machine.cpu();
    cpu.load_state(cpu.s, machine.clock().ns_to_ticks(ns), 0);
    machine.clock().dispatch(cpu.ticks());
  }
  std::vector<uint8_t> take_interrupts() {
    std::vector<uint8_t> vectors;
    while (pic.interrupt_pending()) {
      uint8_t v = pic.acknowledge();
      vectors.push_back(v);
      if (v >= 0x70) pic.slave().write(0, 1, 0x20);
      pic.master().write(0, 1, 0x20);
    }
    return vectors;
  }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(machine.bus().io_read(port, 1)); }
  void out(uint16_t port, uint8_t v) { machine.bus().io_write(port, 1, v); }

  Machine machine{MachineConfig{}};
  MachineTimeSource time{machine};
  PicPair pic;
  SharedIrq irq4{pic.line(4)};
  Uart com1{"com1", irq4.add_input(), &time, UartConfig{.timed = true}};
  Uart com3{"com3", irq4.add_input(), &time};
  I8042 kbc{pic.line(1), pic.line(12)};
  PostCodePort post{&time};
  SystemControlPortA port92;
  std::shared_ptr<uart::MemoryBackend> com1_out = std::make_shared<uart::MemoryBackend>();
  bool a20_kbc = true, a20_92 = false;
  int resets = 0;
};

TEST_F(SerialWiringTest, TimedCom1TransmitsOnTheMachineClockAndInterrupts) {
  out(0x3FB, 0x80);
  out(0x3F8, 1);  // 115200 baud
  out(0x3F9, 0);
  out(0x3FB, 0x03);
  out(0x3FC, 0x08);  // OUT2
  out(0x3F8, 'A');
  EXPECT_EQ(in(0x3FD) & 0x60, 0x20);                         // THRE, not TEMT
  out(0x3F9, 0x02);                                          // THRE interrupt
  EXPECT_EQ(take_interrupts(), std::vector<uint8_t>{0x0C});  // IRQ 4
  run_to(com1.character_time_ns() + 1000);
  EXPECT_EQ(com1_out->output(), "A");
  EXPECT_EQ(in(0x3FD) & 0x60, 0x60);
  EXPECT_EQ(machine.clock().pending(), 0u);
}

TEST_F(SerialWiringTest, KeyPressReachesIrq1AndPort60) {
  kbc.type_text("z");
  EXPECT_EQ(take_interrupts(), std::vector<uint8_t>{0x09});
  EXPECT_EQ(in(0x64) & 1, 1);
  EXPECT_EQ(in(0x60), 0x2C);  // set 1 (translated)
  EXPECT_EQ(take_interrupts(), std::vector<uint8_t>{0x09});
  EXPECT_EQ(in(0x60), 0xAC);
  EXPECT_EQ(in(0x61), 0xFF);  // not claimed by the i8042
}

TEST_F(SerialWiringTest, A20ResetAndPostCodes) {
  out(0x64, 0xD1);
  out(0x60, 0xCD);  // A20 off
  EXPECT_FALSE(a20_kbc);
  out(0x92, 0x02);
  EXPECT_TRUE(a20_92);
  out(0x64, 0xFE);
  EXPECT_EQ(resets, 1);
  run_to(5000);
  out(0x80, 0x42);
  ASSERT_EQ(post.log().size(), 1u);
  EXPECT_EQ(post.log()[0].time_ns, machine.now_ns());
  EXPECT_EQ(in(0x80), 0x42);
}

}  // namespace
}  // namespace faultline
