// Fault targets on the PC platform: device registers, disk sectors, serial
// bytes and IRQ lines, each shown on a real Machine + PcPlatform through
// what the guest sees (its interrupt handlers, or port I/O the test does
// as the guest would).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/machine.h"
#include "devices/pc/pc_platform.h"
#include "faults/fault_space.h"
#include "faults/injector.h"
#include "tests/devices/pc_test_support.h"

namespace faultline::faults {
namespace {

constexpr uint32_t kCode = 0x10000;      // sti; hlt; jmp back
constexpr uint32_t kSpin = 0x10080;      // jmp $ (interrupts off)
constexpr uint32_t kHandlers = 0x10100;  // one stub per IRQ, 32 bytes apart
constexpr uint32_t kCounters = 0x20000;  // dword per IRQ, incremented by the stubs
constexpr uint32_t kIdt = 0x3000;
constexpr uint64_t kTicksPerMs = 100'000;  // 100 M instructions per second
constexpr unsigned kSectors = 64;

uint8_t pattern(uint64_t lba, unsigned i) { return static_cast<uint8_t>(lba * 7 + i * 3 + 1); }

class PlatformFaultTest : public ::testing::Test {
 protected:
  PlatformFaultTest() : m_(MachineConfig{}) {
    disk_path_ = ::testing::TempDir() + "fl_platform_faults_" + std::to_string(::getpid()) + ".img";
    std::vector<uint8_t> img(kSectors * 512);
    for (unsigned s = 0; s < kSectors; ++s)
      for (unsigned i = 0; i < 512; ++i) img[s * 512 + i] = pattern(s, i);
    std::ofstream(disk_path_, std::ios::binary)
        .write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
    PcConfig cfg;
    cfg.vga = false;
    cfg.ide_disks[0] = disk_path_;
    pc_ = std::make_unique<PcPlatform>(m_, cfg);
    inj_ = std::make_unique<FaultInjector>(m_, nullptr, pc_.get());
    setup_guest();
  }
  ~PlatformFaultTest() override {
    inj_.reset();
    pc_.reset();
    std::remove(disk_path_.c_str());
  }

  // Flat 32-bit guest idling in `sti; hlt` with a counting handler per IRQ
  // (vectors 0x20-0x2F); PIC initialised (all lines masked), PIT channel 0
  // untouched.
  void setup_guest() {
    pc_test::enter_flat32(m_, kCode);
    pc_test::poke(m_, kCode, {0xFB, 0xF4, 0xEB, 0xFC});
    pc_test::poke(m_, kSpin, {0xEB, 0xFE});
    for (unsigned irq = 0; irq < 16; ++irq) {
      const uint32_t h = kHandlers + 32 * irq, counter = kCounters + 4 * irq;
      std::vector<uint8_t> stub = {0xFF,
                                   0x05,
                                   uint8_t(counter),
                                   uint8_t(counter >> 8),
                                   uint8_t(counter >> 16),
                                   uint8_t(counter >> 24),  // inc dword [counter]
                                   0x50,
                                   0xB0,
                                   0x20};                   // push eax; mov al, 0x20
      if (irq >= 8) stub.insert(stub.end(), {0xE6, 0xA0});  // out 0xA0, al
      stub.insert(stub.end(), {0xE6, 0x20, 0x58, 0xCF});    // out 0x20, al; pop eax; iret
      pc_test::poke(m_, h, stub);
      pc_test::set_interrupt_gate(m_, kIdt, static_cast<uint8_t>(0x20 + irq), h);
    }
    out(0x20, 0x11), out(0x21, 0x20), out(0x21, 0x04), out(0x21, 0x01);
    out(0xA0, 0x11), out(0xA1, 0x28), out(0xA1, 0x02), out(0xA1, 0x01);
    out(0x21, 0xFF), out(0xA1, 0xFF);
  }
  void spin() { m_.cpu().s.eip = kSpin; }
  void out(uint16_t port, uint8_t v) { m_.bus().io_write(port, 1, v); }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(m_.bus().io_read(port, 1)); }
  uint32_t count(unsigned irq) { return pc_test::peek32(m_, kCounters + 4 * irq); }
  void run_to(uint64_t tick) {
    while (m_.cpu().ticks() < tick) m_.run(tick - m_.cpu().ticks());
  }
  // PIT channel 0, mode 2, `n` input clocks per period.
  void start_pit(uint16_t n) {
    out(0x43, 0x34);
    out(0x40, static_cast<uint8_t>(n));
    out(0x40, static_cast<uint8_t>(n >> 8));
  }

  // ATA PIO on the primary master.
  void select(uint64_t lba, uint8_t command) {
    out(0x1F6, static_cast<uint8_t>(0xE0 | ((lba >> 24) & 0x0F)));
    out(0x1F2, 1);
    out(0x1F3, static_cast<uint8_t>(lba));
    out(0x1F4, static_cast<uint8_t>(lba >> 8));
    out(0x1F5, static_cast<uint8_t>(lba >> 16));
    out(0x1F7, command);
  }
  // READ SECTORS of one sector; empty if the command ended without DRQ.
  std::vector<uint8_t> read_sector(uint64_t lba, uint8_t* status = nullptr) {
    select(lba, 0x20);
    uint8_t st = in(0x1F7);
    if (status) *status = st;
    if (!(st & 0x08)) return {};
    std::vector<uint8_t> data(512);
    for (unsigned i = 0; i < 512; i += 2) {
      uint32_t w = m_.bus().io_read(0x1F0, 2);
      data[i] = static_cast<uint8_t>(w);
      data[i + 1] = static_cast<uint8_t>(w >> 8);
    }
    return data;
  }
  std::vector<uint8_t> expected(uint64_t lba) {
    std::vector<uint8_t> v(512);
    for (unsigned i = 0; i < 512; ++i) v[i] = pattern(lba, i);
    return v;
  }
  std::vector<uint8_t> image_sector(uint64_t lba) {
    std::vector<uint8_t> v(512);
    EXPECT_EQ(pc_->disk_image(0)->read(lba, v), DiskIo::Ok);
    return v;
  }

  static pb::Fault field_flip(const char* name, uint64_t mask) {
    pb::Fault f;
    f.set_device_field(name);
    f.set_bit_mask(mask);
    f.mutable_model()->mutable_bit_flip()->set_bits(1);
    return f;
  }
  static pb::Fault disk(pb::DiskFaultKind kind, uint64_t lba, uint64_t n = 1) {
    pb::Fault f;
    f.mutable_disk()->set_drive(0);
    f.mutable_disk()->set_lba(lba);
    f.mutable_disk()->set_count(n);
    f.mutable_disk()->set_kind(kind);
    return f;
  }
  static pb::Fault serial(pb::SerialDirection dir, pb::SerialAction action, uint64_t mask = 0) {
    pb::Fault f;
    f.mutable_serial()->set_com(1);
    f.mutable_serial()->set_direction(dir);
    f.mutable_serial()->set_action(action);
    if (action == pb::SERIAL_CORRUPT) {
      f.set_bit_mask(mask);
      f.mutable_model()->mutable_bit_flip()->set_bits(1);
    }
    return f;
  }
  static pb::Fault irq(unsigned line, pb::IrqFaultKind kind) {
    pb::Fault f;
    f.mutable_irq()->set_line(line);
    f.mutable_irq()->set_kind(kind);
    return f;
  }
  void send(const std::string& s) {
    for (char c : s) out(0x3F8, static_cast<uint8_t>(c));
  }
  std::string receive_all() {
    std::string s;
    while (in(0x3FD) & 0x01) s.push_back(static_cast<char>(in(0x3F8)));
    return s;
  }

  Machine m_;
  std::string disk_path_;
  std::unique_ptr<PcPlatform> pc_;
  std::unique_ptr<FaultInjector> inj_;
};

// ---- device registers --------------------------------------------------------------

TEST_F(PlatformFaultTest, PicImrFlipUnmasksTheTimer) {
  start_pit(1193);  // ~1 ms
  run_to(5 * kTicksPerMs);
  EXPECT_EQ(count(0), 0u) << "IRQ 0 is masked";
  pb::Fault f = field_flip("pic.master.imr", 0x01);
  f.mutable_trigger()->set_instruction(5 * kTicksPerMs + 10);
  inj_->arm(f);
  run_to(10 * kTicksPerMs + 50'000);
  ASSERT_TRUE(inj_->record().injected);
  EXPECT_EQ(inj_->record().detail, "pic.master.imr 0xff->0xfe");
  EXPECT_EQ(in(0x21), 0xFE) << "the guest reads the flipped mask";
  // The edges while masked latched IRR bit 0: one interrupt at once, then
  // the edges at 6..10 ms.
  EXPECT_EQ(count(0), 6u) << "timer interrupts reach the CPU once unmasked";
}

TEST_F(PlatformFaultTest, PicImrFlipMasksTheTimer) {
  start_pit(1193);
  out(0x21, 0xFE);
  run_to(3 * kTicksPerMs + 50'000);
  EXPECT_EQ(count(0), 3u);
  inj_->inject_now(field_flip("pic.master.imr", 0x01));
  EXPECT_EQ(inj_->record().detail, "pic.master.imr 0xfe->0xff");
  run_to(8 * kTicksPerMs);
  EXPECT_EQ(count(0), 3u) << "no timer interrupt once masked";
}

TEST_F(PlatformFaultTest, IntermittentPicIrrRequestIsServicedThenNothingToRestore) {
  out(0x21, 0xF7);  // IRQ 3 unmasked, nothing drives it
  run_to(kTicksPerMs);
  pb::Fault f = field_flip("pic.master.irr", 0x08);
  f.mutable_duration()->set_intermittent_instructions(1000);
  inj_->arm(f);
  EXPECT_EQ(inj_->record().detail, "pic.master.irr 0x00->0x08");
  run_to(2 * kTicksPerMs);
  EXPECT_EQ(count(3), 1u) << "a set IRR bit is a request the CPU takes";
  EXPECT_EQ(pc_->pic().master().irr(), 0);
}

TEST_F(PlatformFaultTest, PitCountFlipMovesTheNextIrq0) {
  std::vector<uint64_t> edges;
  pc_->pic().line_filter = [&](unsigned line, bool level) {
    if (line == 0 && level) edges.push_back(m_.now_ns());
    return true;
  };
  start_pit(11932);  // 10 ms period
  out(0x21, 0xFE);
  pb::Fault f;
  f.set_device_field("pit.ch0.count");
  f.mutable_model()->mutable_set_value()->set_value(1193);  // bit_mask 0: the whole field
  f.mutable_trigger()->set_instruction(2 * kTicksPerMs);
  inj_->arm(f);
  run_to(25 * kTicksPerMs);
  ASSERT_TRUE(inj_->record().injected);
  EXPECT_EQ(inj_->record().detail.rfind("pit.ch0.count 0x", 0), 0u) << inj_->record().detail;
  EXPECT_NE(inj_->record().detail.find("->0x04a9"), std::string::npos) << inj_->record().detail;
  ASSERT_GE(edges.size(), 2u);
  // Unfaulted: 10 ms, 20 ms. Faulted: 1193 clocks after 2 ms, then a full
  // period of the count register.
  EXPECT_NEAR(double(edges[0]), 2e6 + 1193 * 1e9 / 1193182, 2000.0);
  EXPECT_NEAR(double(edges[1]), double(edges[0]) + 11932 * 1e9 / 1193182, 2000.0);
  EXPECT_EQ(count(0), edges.size());
}

TEST_F(PlatformFaultTest, PitReloadFlipChangesThePeriod) {
  std::vector<uint64_t> edges;
  pc_->pic().line_filter = [&](unsigned line, bool level) {
    if (line == 0 && level) edges.push_back(m_.now_ns());
    return true;
  };
  start_pit(1193);
  inj_->inject_now(field_flip("pit.ch0.reload", 0x800));  // 1193 -> 3241
  EXPECT_EQ(inj_->record().detail, "pit.ch0.reload 0x04a9->0x0ca9");
  run_to(20 * kTicksPerMs);
  ASSERT_GE(edges.size(), 3u);
  EXPECT_NEAR(double(edges[2] - edges[1]), 3241 * 1e9 / 1193182, 20.0);  // events land on 10 ns ticks
}

TEST_F(PlatformFaultTest, UartLcrDlabFlipRedirectsTheDataPort) {
  spin();
  out(0x3FB, 0x03);  // 8N1
  EXPECT_EQ(in(0x3FB), 0x03);
  inj_->inject_now(field_flip("com1.lcr", 0x80));
  EXPECT_EQ(inj_->record().detail, "com1.lcr 0x03->0x83");
  EXPECT_EQ(in(0x3FB), 0x83);
  EXPECT_EQ(in(0x3F8), 12) << "with DLAB set the data port reads the divisor latch (9600 baud)";
  send("x");
  EXPECT_EQ(pc_->com_output(0), "") << "a byte written with DLAB set goes to the divisor, not the line";
  EXPECT_EQ(in(0x3F8), 'x');
}

TEST_F(PlatformFaultTest, IdeStatusErrIntermittentThenRestored) {
  spin();
  EXPECT_EQ(in(0x1F7) & 0x01, 0);
  pb::Fault f = field_flip("ide0.status", 0x01);
  f.mutable_duration()->set_intermittent_instructions(500);
  inj_->inject_now(f);
  EXPECT_EQ(inj_->record().detail, "ide0.status 0x50->0x51");
  EXPECT_EQ(in(0x1F7), 0x51) << "the guest sees ERR";
  run_to(m_.cpu().ticks() + 600);
  EXPECT_EQ(in(0x1F7), 0x50);
  EXPECT_NE(inj_->record().detail.find("; restored at tick"), std::string::npos);
}

TEST_F(PlatformFaultTest, RtcCmosByteSetValue) {
  pb::Fault f;
  f.set_device_field("rtc.cmos[0x10]");
  f.mutable_model()->mutable_set_value()->set_value(0x44);
  out(0x70, 0x10);
  const uint8_t before = in(0x71);
  inj_->inject_now(f);
  out(0x70, 0x10);
  EXPECT_EQ(in(0x71), 0x44);
  char want[64];
  std::snprintf(want, sizeof want, "rtc.cmos[0x10] 0x%02x->0x44", before);
  EXPECT_EQ(inj_->record().detail, want);
}

TEST_F(PlatformFaultTest, BadTargetsAreRejected) {
  EXPECT_THROW(inj_->inject_now(field_flip("pic.master.nope", 1)), std::invalid_argument);
  EXPECT_THROW(inj_->inject_now(field_flip("pic.master.imr", 0x100)), std::invalid_argument);
  pb::Fault perm = field_flip("pic.master.imr", 1);
  perm.mutable_duration()->set_permanent(true);
  EXPECT_THROW(inj_->inject_now(perm), std::invalid_argument);
  pb::Fault d = disk(pb::DISK_READ_ERROR, 0);
  d.mutable_disk()->set_drive(1);  // no disk there
  EXPECT_THROW(inj_->inject_now(d), std::invalid_argument);
  pb::Fault werr = disk(pb::DISK_WRITE_ERROR, 0);
  werr.mutable_model()->mutable_bit_flip();
  EXPECT_THROW(inj_->inject_now(werr), std::invalid_argument);
  pb::Fault com = serial(pb::SERIAL_TX, pb::SERIAL_DROP);
  com.mutable_serial()->set_com(2);  // absent by default
  EXPECT_THROW(inj_->inject_now(com), std::invalid_argument);
  EXPECT_THROW(inj_->inject_now(irq(16, pb::IRQ_LOST)), std::invalid_argument);
  pb::Fault spur = irq(3, pb::IRQ_SPURIOUS);
  spur.mutable_duration()->set_permanent(true);
  EXPECT_THROW(inj_->inject_now(spur), std::invalid_argument);

  FaultInjector bare(m_, nullptr);
  for (const pb::Fault& f : {field_flip("pic.master.imr", 1), disk(pb::DISK_READ_ERROR, 0),
                             serial(pb::SERIAL_TX, pb::SERIAL_DROP), irq(0, pb::IRQ_LOST)}) {
    try {
      bare.inject_now(f);
      ADD_FAILURE() << "accepted without a platform";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("needs the PC platform"), std::string::npos) << e.what();
    }
  }
}

// Every field reads back what a fault wrote (bit 0 flipped), except where
// the device derives the bit itself.
TEST_F(PlatformFaultTest, EveryDeviceFieldReadsBackAFlippedBit) {
  spin();
  start_pit(1193);
  FaultFields fields = pc_->fault_fields();
  ASSERT_GT(fields.size(), 150u);
  for (FaultField& f : fields) {
    SCOPED_TRACE(f.name);
    ASSERT_GE(f.bits, 1u);
    ASSERT_LE(f.bits, 16u);
    const uint64_t before = f.get();
    EXPECT_EQ(before >> f.bits, 0u);
    f.set(before ^ 1);
    uint64_t after = f.get();
    if (f.name == "rtc.reg0c") {  // only the flags PF/AF/UF are state; IRQF follows
      EXPECT_EQ(after, before);
      f.set(before ^ 0x10);
      EXPECT_EQ(f.get() & 0x70, (before ^ 0x10) & 0x70);
    } else {
      EXPECT_EQ(after, before ^ 1);
    }
    f.set(before);
  }
}

// ---- disk sectors ------------------------------------------------------------------

TEST_F(PlatformFaultTest, DiskReadCorruptionTransientHitsTheNextReadOnly) {
  spin();
  pb::Fault f = disk(pb::DISK_CORRUPT_READ, 5, 2);
  f.mutable_disk()->set_offset(100);
  f.set_width(2);
  f.set_bit_mask(0x0100);
  f.mutable_model()->mutable_bit_flip()->set_bits(1);
  inj_->inject_now(f);
  EXPECT_FALSE(inj_->record().injected) << "nothing read yet";
  EXPECT_EQ(read_sector(4), expected(4)) << "outside the range";
  std::vector<uint8_t> got = read_sector(6);
  std::vector<uint8_t> want = expected(6);
  want[101] ^= 0x01;
  EXPECT_EQ(got, want) << "bit 8 of the word at offset 100";
  EXPECT_TRUE(inj_->record().injected);
  EXPECT_NE(inj_->record().detail.find("read of lba 6 corrupted: offset 100"), std::string::npos)
      << inj_->record().detail;
  EXPECT_EQ(read_sector(6), expected(6)) << "transient: one read only";
  EXPECT_EQ(image_sector(6), expected(6)) << "the image is unchanged";
}

TEST_F(PlatformFaultTest, DiskReadCorruptionPermanentStuckAt) {
  spin();
  pb::Fault f = disk(pb::DISK_CORRUPT_READ, 7);
  f.mutable_disk()->set_offset(0);
  f.set_bit_mask(0xFF);
  f.mutable_model()->mutable_stuck_at()->set_value(0);
  f.mutable_duration()->set_permanent(true);
  inj_->inject_now(f);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(read_sector(7)[0], 0) << "read " << k;
  // A write and read back: the written data reaches the overlay unchanged,
  // the read is still forced.
  select(7, 0x30);
  for (unsigned i = 0; i < 256; ++i) m_.bus().io_write(0x1F0, 2, 0x4242);
  EXPECT_EQ(image_sector(7)[0], 0x42);
  std::vector<uint8_t> got = read_sector(7);
  EXPECT_EQ(got[0], 0);
  EXPECT_EQ(got[1], 0x42);
  EXPECT_NE(inj_->record().detail.find("read of lba 7 corrupted: offset 0 0x"), std::string::npos)
      << inj_->record().detail;
}

TEST_F(PlatformFaultTest, DiskReadErrorEndsTheCommandWithUnc) {
  spin();
  pb::Fault f = disk(pb::DISK_READ_ERROR, 10, 4);
  f.mutable_trigger()->set_instruction(m_.cpu().ticks() + 100);
  inj_->arm(f);
  EXPECT_EQ(read_sector(11), expected(11)) << "before the trigger";
  run_to(m_.cpu().ticks() + 200);
  uint8_t status = 0;
  EXPECT_TRUE(read_sector(12, &status).empty());
  EXPECT_EQ(status & 0x01, 0x01) << "ERR";
  EXPECT_EQ(in(0x1F1), 0x40) << "UNC";
  EXPECT_EQ(in(0x1F3), 12) << "LBA of the failing sector";
  EXPECT_EQ(read_sector(12), expected(12)) << "transient";
  EXPECT_NE(inj_->record().detail.find("read of lba 12 failed (UNC)"), std::string::npos);
}

TEST_F(PlatformFaultTest, DiskWriteErrorLeavesTheImage) {
  spin();
  pb::Fault f = disk(pb::DISK_WRITE_ERROR, 3);
  f.mutable_duration()->set_permanent(true);
  inj_->inject_now(f);
  EXPECT_EQ(read_sector(3), expected(3)) << "reads are not affected";
  for (int k = 0; k < 2; ++k) {
    select(3, 0x30);
    for (unsigned i = 0; i < 256; ++i) m_.bus().io_write(0x1F0, 2, 0);
    EXPECT_EQ(in(0x1F7) & 0x01, 0x01);
    EXPECT_EQ(in(0x1F1), 0x10) << "IDNF";
  }
  EXPECT_EQ(image_sector(3), expected(3));
}

TEST_F(PlatformFaultTest, DiskTimeoutHangsUntilReset) {
  spin();
  inj_->inject_now(disk(pb::DISK_TIMEOUT, 1));
  uint8_t status = 0;
  EXPECT_TRUE(read_sector(1, &status).empty());
  EXPECT_EQ(status, 0x80) << "BSY forever";
  run_to(m_.cpu().ticks() + 100'000);
  EXPECT_EQ(in(0x1F7), 0x80);
  EXPECT_FALSE(pc_->ide(0)->irq_pending());
  out(0x3F6, 0x04);  // SRST
  out(0x3F6, 0x00);
  EXPECT_EQ(read_sector(1), expected(1));
}

TEST_F(PlatformFaultTest, DiskIntermittentCorruptionEndsWithTheWindow) {
  spin();
  pb::Fault f = disk(pb::DISK_CORRUPT_READ, 0, kSectors);
  f.set_bit_mask(0x80);
  f.mutable_model()->mutable_bit_flip()->set_bits(1);
  f.mutable_duration()->set_intermittent_instructions(1000);
  inj_->inject_now(f);
  EXPECT_NE(read_sector(2), expected(2));
  EXPECT_NE(read_sector(3), expected(3));
  run_to(m_.cpu().ticks() + 1001);
  EXPECT_EQ(read_sector(3), expected(3));
  EXPECT_NE(inj_->record().detail.find("window ended"), std::string::npos);
}

// ---- serial bytes ------------------------------------------------------------------

TEST_F(PlatformFaultTest, SerialTxDropTransient) {
  spin();
  inj_->inject_now(serial(pb::SERIAL_TX, pb::SERIAL_DROP));
  EXPECT_TRUE(inj_->waiting());  // armed on the stream, no byte hit yet
  send("ABC");
  EXPECT_FALSE(inj_->waiting());
  EXPECT_TRUE(inj_->record().injected);
  EXPECT_EQ(pc_->com_output(0), "BC");
  EXPECT_NE(inj_->record().detail.find("com1 tx byte 0x41 dropped"), std::string::npos)
      << inj_->record().detail;
}

TEST_F(PlatformFaultTest, SerialTxCorruptPermanentAfterTrigger) {
  spin();
  pb::Fault f = serial(pb::SERIAL_TX, pb::SERIAL_CORRUPT, 0x20);
  f.mutable_duration()->set_permanent(true);
  f.mutable_trigger()->mutable_port()->set_start(0x3F8);
  f.mutable_trigger()->mutable_port()->set_on_write(true);
  f.mutable_trigger()->mutable_port()->set_occurrence(2);
  inj_->arm(f);
  send("ABCD");
  run_to(m_.cpu().ticks() + 10);  // the trigger fires at the next instruction boundary
  send("EF");
  EXPECT_EQ(pc_->com_output(0), "ABCDef");
}

TEST_F(PlatformFaultTest, SerialRxCorruptAndDrop) {
  spin();
  out(0x3FC, 0x0B);
  inj_->inject_now(serial(pb::SERIAL_RX, pb::SERIAL_CORRUPT, 0x01));
  pc_->com(0)->receive("abc");
  EXPECT_EQ(receive_all(), "`bc");
  EXPECT_NE(inj_->record().detail.find("com1 rx byte 0x61->0x60"), std::string::npos);
  pb::Fault drop = serial(pb::SERIAL_RX, pb::SERIAL_DROP);
  drop.mutable_duration()->set_intermittent_instructions(100);
  inj_->inject_now(drop);
  pc_->com(0)->receive("xyz");
  EXPECT_EQ(receive_all(), "");
  run_to(m_.cpu().ticks() + 101);
  pc_->com(0)->receive("uv");
  EXPECT_EQ(receive_all(), "uv");
}

// ---- interrupt lines ---------------------------------------------------------------

TEST_F(PlatformFaultTest, LostTimerInterrupts) {
  start_pit(1193);
  out(0x21, 0xFE);
  pb::Fault f = irq(0, pb::IRQ_LOST);
  f.mutable_trigger()->set_instruction(2 * kTicksPerMs + 50'000);
  inj_->arm(f);
  run_to(10 * kTicksPerMs + 50'000);
  EXPECT_EQ(count(0), 9u) << "exactly one of ten timer interrupts lost";
  EXPECT_NE(inj_->record().detail.find("assertion of irq 0 dropped"), std::string::npos)
      << inj_->record().detail;
}

TEST_F(PlatformFaultTest, LostTimerInterruptsPermanentAndIntermittent) {
  start_pit(1193);
  out(0x21, 0xFE);
  pb::Fault f = irq(0, pb::IRQ_LOST);
  f.mutable_trigger()->set_instruction(2 * kTicksPerMs + 50'000);
  f.mutable_duration()->set_intermittent_instructions(3 * kTicksPerMs);
  inj_->arm(f);
  run_to(10 * kTicksPerMs + 50'000);
  EXPECT_EQ(count(0), 7u) << "edges at 3, 4 and 5 ms lost";
  pb::Fault p = irq(0, pb::IRQ_LOST);
  p.mutable_duration()->set_permanent(true);
  inj_->inject_now(p);
  run_to(20 * kTicksPerMs);
  EXPECT_EQ(count(0), 7u);
  inj_->disarm();
  run_to(22 * kTicksPerMs + 50'000);
  EXPECT_EQ(count(0), 9u) << "disarm ends the fault";
}

TEST_F(PlatformFaultTest, SpuriousInterruptOnAnIdleLine) {
  out(0x21, 0xF7);
  pb::Fault f = irq(3, pb::IRQ_SPURIOUS);
  f.mutable_trigger()->set_instruction(kTicksPerMs);
  inj_->arm(f);
  run_to(kTicksPerMs / 2);
  EXPECT_EQ(count(3), 0u);
  run_to(2 * kTicksPerMs);
  EXPECT_EQ(count(3), 1u);
  EXPECT_EQ(inj_->record().detail, "irq 3 pulsed (spurious interrupt)");
  EXPECT_FALSE(pc_->pic().line_level(3));
}

TEST_F(PlatformFaultTest, SpuriousInterruptOnTheSlave) {
  out(0x21, 0xFB);  // cascade unmasked
  out(0xA1, 0xBF);  // IRQ 14
  inj_->inject_now(irq(14, pb::IRQ_SPURIOUS));
  run_to(kTicksPerMs);
  EXPECT_EQ(count(14), 1u);
}

// ---- fault space ---------------------------------------------------------------------

TEST(PlatformFaultSpace, ExpandsDeviceDiskSerialAndIrqTargets) {
  pb::Campaign c;
  auto* g = c.add_fault_space();
  g->set_name("dev");
  g->mutable_target()->mutable_device()->add_fields("pic.master.*");
  g->mutable_target()->mutable_device()->add_fields("pic.master.imr");  // already selected
  g->mutable_target()->mutable_device()->add_fields("pit.ch0.mode");
  g->mutable_model()->mutable_bit_flip();
  g->mutable_trigger()->mutable_instructions()->set_start(100);
  g->mutable_trigger()->mutable_instructions()->set_end(102);
  g = c.add_fault_space();
  g->set_name("disk");
  g->mutable_target()->mutable_disk()->set_drive(0);
  g->mutable_target()->mutable_disk()->mutable_sectors()->set_start(10);
  g->mutable_target()->mutable_disk()->mutable_sectors()->set_end(12);
  g->mutable_target()->mutable_disk()->set_width(2);
  g->mutable_target()->mutable_disk()->mutable_bytes()->set_start(0);
  g->mutable_target()->mutable_disk()->mutable_bytes()->set_end(8);
  g->mutable_model()->mutable_stuck_at()->set_value(1);
  g = c.add_fault_space();
  g->set_name("err");
  g->mutable_target()->mutable_disk()->set_kind(pb::DISK_READ_ERROR);
  g->mutable_target()->mutable_disk()->mutable_sectors()->set_start(0);
  g->mutable_target()->mutable_disk()->mutable_sectors()->set_end(5);
  g = c.add_fault_space();
  g->set_name("com");
  g->mutable_target()->mutable_serial()->set_com(1);
  g->mutable_model()->mutable_random_value();
  g = c.add_fault_space();
  g->set_name("irq");
  g->mutable_target()->mutable_irq()->add_lines(0);
  g->mutable_target()->mutable_irq()->add_lines(14);
  FaultSpace space(c, GoldenInfo{});
  // dev: (5 PIC fields x 8 + 3 mode bits) x 2 points; disk: 2 sectors x 4
  // cells x 16 bits; err: 5; com: 1; irq: 2.
  ASSERT_EQ(space.size(), 86u + 128u + 5u + 1u + 2u);
  pb::Fault f = space.at(0);
  EXPECT_EQ(f.device_field(), "pic.master.irr");
  EXPECT_EQ(f.bit_mask(), 1u);
  EXPECT_EQ(f.trigger().instruction(), 100u);
  f = space.at(85);
  EXPECT_EQ(f.device_field(), "pit.ch0.mode");
  EXPECT_EQ(f.bit_mask(), 4u);
  EXPECT_EQ(f.trigger().instruction(), 101u);
  f = space.at(86 + 64 + 16 * 3 + 5);  // sector 11, cell 3, bit 5
  EXPECT_EQ(f.disk().lba(), 11u);
  EXPECT_EQ(f.disk().offset(), 6u);
  EXPECT_EQ(f.disk().count(), 1u);
  EXPECT_EQ(f.disk().kind(), pb::DISK_CORRUPT_READ);
  EXPECT_EQ(f.width(), 2u);
  EXPECT_EQ(f.bit_mask(), 0x20u);
  f = space.at(86 + 128 + 4);
  EXPECT_EQ(f.disk().lba(), 4u);
  EXPECT_EQ(f.disk().kind(), pb::DISK_READ_ERROR);
  EXPECT_FALSE(f.has_model());
  f = space.at(86 + 128 + 5);
  EXPECT_EQ(f.serial().com(), 1u);
  EXPECT_EQ(f.bit_mask(), 0xFFu);
  EXPECT_TRUE(f.model().has_random_value());
  f = space.at(86 + 128 + 6 + 1);
  EXPECT_EQ(f.irq().line(), 14u);
  EXPECT_EQ(f.irq().kind(), pb::IRQ_LOST);
  EXPECT_FALSE(f.has_model());
}

TEST(PlatformFaultSpace, RejectsContradictionsAndUnknownFields) {
  auto expect_bad = [](const pb::FaultGroup& g, const char* what) {
    pb::Campaign c;
    *c.add_fault_space() = g;
    try {
      FaultSpace space(c, GoldenInfo{});
      ADD_FAILURE() << "accepted: " << what;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  pb::FaultGroup g;
  g.mutable_target()->mutable_device()->add_fields("pic.master.nope");
  g.mutable_model()->mutable_bit_flip();
  expect_bad(g, "unknown device field 'pic.master.nope'");
  g.Clear();
  g.mutable_target()->mutable_disk()->set_kind(pb::DISK_WRITE_ERROR);
  g.mutable_target()->mutable_disk()->mutable_sectors()->set_end(4);
  g.mutable_model()->mutable_bit_flip();
  expect_bad(g, "takes no model");
  g.Clear();
  g.mutable_target()->mutable_irq()->add_lines(16);
  expect_bad(g, "irq line 16 is not 0..15");
  g.Clear();
  g.mutable_target()->mutable_serial()->set_com(0);
  g.mutable_model()->mutable_bit_flip();
  expect_bad(g, "serial com 0 is not 1..4");
}

// Every fault of an expanded platform space can be armed on a real platform.
TEST_F(PlatformFaultTest, EveryExpandedFaultIsAccepted) {
  pb::Campaign c;
  auto* g = c.add_fault_space();
  g->mutable_target()->mutable_device()->add_fields("*");
  g->mutable_model()->mutable_set_value()->set_value(0);
  g = c.add_fault_space();
  g->mutable_target()->mutable_disk()->mutable_sectors()->set_end(2);
  g->mutable_model()->mutable_bit_flip();
  g = c.add_fault_space();
  g->mutable_target()->mutable_irq()->add_lines(5);
  GoldenInfo golden;
  golden.device_fields = device_field_infos(*pc_);
  FaultSpace space(c, golden);
  spin();
  for (uint64_t i = 0; i < space.size(); ++i) {
    ASSERT_NO_THROW(inj_->arm(space.at(i))) << i << ": " << space.at(i).ShortDebugString();
    inj_->disarm();
  }
}

// Output triggers see COM1 as guest output on the PC platform: the guest
// prints "OK" on the serial port only, and the fault fires on it.
TEST_F(PlatformFaultTest, OutputTriggerMatchesComOneOutput) {
  constexpr uint32_t kPrint = 0x10200;
  pc_test::poke(m_, kPrint,
                {0x66, 0xBA, 0xF8, 0x03,  // mov dx, 0x3F8
                 0xB0, 'O', 0xEE,         // mov al, 'O'; out dx, al
                 0xB0, 'K', 0xEE,         // mov al, 'K'; out dx, al
                 0xEB, 0xFE});            // jmp $
  m_.cpu().s.eip = kPrint;
  m_.cpu().s.gpr[EBX] = 0;
  pb::Fault f;
  f.set_register_name("ebx");
  f.mutable_model()->mutable_set_value()->set_value(0x1234);
  f.mutable_trigger()->mutable_output()->set_pattern("OK");
  inj_->arm(f);
  m_.run(1000);
  EXPECT_EQ(pc_->com_output(0), "OK");
  EXPECT_TRUE(inj_->record().injected) << inj_->record().detail;
  EXPECT_EQ(m_.cpu().s.gpr[EBX], 0x1234u);
  // Without a match nothing fires: a pattern the guest never prints.
  inj_->disarm();
  m_.cpu().s.gpr[EBX] = 0;
  m_.cpu().s.eip = kPrint;
  f.mutable_trigger()->mutable_output()->set_pattern("NOPE");
  inj_->arm(f);
  m_.run(1000);
  EXPECT_FALSE(inj_->record().injected);
  EXPECT_EQ(m_.cpu().s.gpr[EBX], 0u);
}

}  // namespace
}  // namespace faultline::faults
