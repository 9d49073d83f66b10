// ATA channel, disk images and bus-master DMA: IDENTIFY, PIO and DMA
// transfers, LBA48/HOB, multiple mode, interrupts, errors, fault hooks,
// resets, copy-on-write overlays and save/load.
#include "devices/ide/disk_image.h"
#include "devices/ide/ide.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace faultline {
namespace {

using namespace ata;

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "faultline-ide-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class RecordingIrq final : public IrqLine {
 public:
  void raise() override {
    if (!level) ++edges;
    level = true;
  }
  void lower() override { level = false; }
  bool level = false;
  int edges = 0;
};

// Byte `j` of sector `lba` in the generated images.
uint8_t pattern(uint64_t lba, unsigned j) { return static_cast<uint8_t>(lba * 7 + j * 13 + (lba >> 8)); }

std::vector<uint8_t> pattern_sector(uint64_t lba) {
  std::vector<uint8_t> s(512);
  for (unsigned j = 0; j < 512; ++j) s[j] = pattern(lba, j);
  return s;
}

void write_image(const std::string& path, uint64_t sectors) {
  std::ofstream out(path, std::ios::binary);
  for (uint64_t lba = 0; lba < sectors; ++lba) {
    auto s = pattern_sector(lba);
    out.write(reinterpret_cast<const char*>(s.data()), 512);
  }
}

std::string file_contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr uint64_t kSectors = 4096;  // 2 MiB

class IdeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path = dir.file("disk.img");
    write_image(path, kSectors);
    image = std::make_shared<DiskImage>(DiskImageConfig{path});
    channel.attach(0, image, IdeDriveConfig{"FAULTLINE TEST DISK", "SN123", "0.1"});
    channel.set_dma_memory(DmaMemory{
        [this](uint64_t a, void* d, size_t n) {
          if (a + n > ram.size()) return false;
          std::memcpy(d, ram.data() + a, n);
          return true;
        },
        [this](uint64_t a, const void* s, size_t n) {
          if (a + n > ram.size()) return false;
          std::memcpy(ram.data() + a, s, n);
          return true;
        }});
  }

  uint8_t status() { return static_cast<uint8_t>(channel.read(7, 1)); }
  uint8_t alt_status() { return static_cast<uint8_t>(channel.control().read(0, 1)); }
  void control(uint8_t v) { channel.control().write(0, 1, v); }

  void lba28(uint8_t command, uint32_t lba, uint8_t count, uint8_t drive = 0) {
    channel.write(6, 1, 0xE0 | (drive << 4) | ((lba >> 24) & 0x0F));
    channel.write(2, 1, count);
    channel.write(3, 1, lba & 0xFF);
    channel.write(4, 1, (lba >> 8) & 0xFF);
    channel.write(5, 1, (lba >> 16) & 0xFF);
    channel.write(7, 1, command);
  }
  void lba48(uint8_t command, uint64_t lba, uint16_t count) {
    channel.write(6, 1, 0x40);
    channel.write(2, 1, count >> 8);  // HOB bytes first
    channel.write(3, 1, (lba >> 24) & 0xFF);
    channel.write(4, 1, (lba >> 32) & 0xFF);
    channel.write(5, 1, (lba >> 40) & 0xFF);
    channel.write(2, 1, count & 0xFF);
    channel.write(3, 1, lba & 0xFF);
    channel.write(4, 1, (lba >> 8) & 0xFF);
    channel.write(5, 1, (lba >> 16) & 0xFF);
    channel.write(7, 1, command);
  }
  std::vector<uint8_t> read_pio(size_t bytes) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < bytes; i += 2) {
      uint32_t w = channel.read(0, 2);
      out.push_back(static_cast<uint8_t>(w));
      out.push_back(static_cast<uint8_t>(w >> 8));
    }
    return out;
  }
  void write_pio(const std::vector<uint8_t>& data) {
    for (size_t i = 0; i < data.size(); i += 2) channel.write(0, 2, data[i] | data[i + 1] << 8);
  }
  std::array<uint16_t, 256> identify() {
    channel.write(6, 1, 0xA0);
    channel.write(7, 1, 0xEC);
    std::array<uint16_t, 256> w{};
    for (auto& word : w) word = static_cast<uint16_t>(channel.read(0, 2));
    return w;
  }
  void put_prd(uint32_t at, uint32_t base, uint32_t bytes, bool last) {
    uint32_t entry[2] = {base, (bytes & 0xFFFF) | (last ? 0x80000000u : 0)};
    std::memcpy(ram.data() + at, entry, 8);
  }

  ScratchDir dir;
  std::string path;
  std::shared_ptr<DiskImage> image;
  RecordingIrq irq14, irq15;
  IdeChannel channel{"ide0", irq14};
  IdeChannel secondary{"ide1", irq15};
  IdeBusMaster bus_master{channel, secondary};
  std::vector<uint8_t> ram = std::vector<uint8_t>(1 << 20);
};

// ---- disk images ------------------------------------------------------------

TEST_F(IdeTest, MissingImageNamesTheFile) {
  std::string missing = dir.file("nope.img");
  try {
    DiskImage img(DiskImageConfig{missing});
    FAIL() << "opened a missing image";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
}

TEST_F(IdeTest, ImageSizeMustBeWholeSectors) {
  std::string odd = dir.file("odd.img");
  std::ofstream(odd, std::ios::binary) << std::string(1000, 'x');
  try {
    DiskImage img(DiskImageConfig{odd});
    FAIL() << "accepted a 1000-byte image";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a multiple of 512"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(odd), std::string::npos) << e.what();
  }
  std::string empty = dir.file("empty.img");
  std::ofstream(empty, std::ios::binary).flush();
  EXPECT_THROW(DiskImage(DiskImageConfig{empty}), std::runtime_error);
  EXPECT_THROW(DiskImage(DiskImageConfig{dir.file("")}), std::runtime_error);  // a directory
}

TEST_F(IdeTest, FileOverlayKeepsBaseAndReadsBack) {
  std::string base_before = file_contents(path);
  DiskImage img(DiskImageConfig{path, DiskMode::OverlayFile, dir.file("overlay.bin")});
  std::vector<uint8_t> data(1024, 0xAB);
  ASSERT_EQ(img.write(10, data), DiskIo::Ok);
  std::vector<uint8_t> back(3 * 512);
  ASSERT_EQ(img.read(9, back), DiskIo::Ok);
  EXPECT_EQ(std::vector<uint8_t>(back.begin(), back.begin() + 512), pattern_sector(9));
  EXPECT_EQ(std::vector<uint8_t>(back.begin() + 512, back.end()), data);
  EXPECT_EQ(img.overlay_sector_count(), 2u);
  EXPECT_EQ(file_contents(path), base_before);
}

TEST_F(IdeTest, WritableBaseWritesThrough) {
  DiskImage img(DiskImageConfig{path, DiskMode::WritableBase});
  std::vector<uint8_t> data(512, 0x5A);
  ASSERT_EQ(img.write(1, data), DiskIo::Ok);
  EXPECT_EQ(file_contents(path).substr(512, 512), std::string(512, '\x5A'));
  DiskImage read_only(DiskImageConfig{path, DiskMode::ReadOnly});
  EXPECT_EQ(read_only.write(1, data), DiskIo::ReadOnly);
}

TEST_F(IdeTest, OverlaySnapshotRestoresGuestWrites) {
  std::vector<uint8_t> a(512, 0xAA), b(512, 0xBB), out(512);
  ASSERT_EQ(image->write(7, a), DiskIo::Ok);
  DiskOverlaySnapshot snap = image->snapshot_overlay();
  ASSERT_EQ(image->write(7, b), DiskIo::Ok);
  ASSERT_EQ(image->write(8, b), DiskIo::Ok);
  image->restore_overlay(snap);
  ASSERT_EQ(image->read(7, out), DiskIo::Ok);
  EXPECT_EQ(out, a);
  ASSERT_EQ(image->read(8, out), DiskIo::Ok);
  EXPECT_EQ(out, pattern_sector(8));
  DiskImage file_overlay(DiskImageConfig{path, DiskMode::OverlayFile, dir.file("ov.bin")});
  EXPECT_THROW(file_overlay.snapshot_overlay(), std::logic_error);
}

// ---- IDENTIFY -----------------------------------------------------------------

TEST_F(IdeTest, IdentifyReportsGeometryCapacityAndStrings) {
  auto w = identify();
  EXPECT_EQ(w[27], ('F' << 8) | 'A');  // first character in the high byte
  EXPECT_EQ(w[28], ('U' << 8) | 'L');
  EXPECT_EQ(w[10], ('S' << 8) | 'N');
  EXPECT_EQ(w[46], 0x2020);            // space padded
  EXPECT_EQ(w[49] & 0x0300, 0x0300);   // LBA and DMA
  EXPECT_EQ(w[47] & 0xFF, IdeChannel::kMaxMultiple);
  EXPECT_EQ(w[60] | (uint32_t{w[61]} << 16), kSectors);
  EXPECT_EQ(w[63] & 0x0007, 0x0007);   // multiword DMA 0-2
  EXPECT_EQ(w[88], 0);                 // no UDMA on the PIIX3
  EXPECT_TRUE(w[83] & 0x0400);         // 48-bit address feature set
  EXPECT_TRUE(w[86] & 0x0400);
  uint64_t lba48 = 0;
  for (int i = 3; i >= 0; --i) lba48 = lba48 << 16 | w[100 + i];
  EXPECT_EQ(lba48, kSectors);
  uint8_t sum = 0;
  for (uint16_t word : w) sum = static_cast<uint8_t>(sum + (word & 0xFF) + (word >> 8));
  EXPECT_EQ(w[255] & 0xFF, 0xA5);
  EXPECT_EQ(sum, 0);
  EXPECT_EQ(status() & kStatusDrq, 0);
}

TEST_F(IdeTest, IdentifyReflectsSetFeaturesAndMultiple) {
  channel.write(1, 1, 0x03);
  channel.write(2, 1, 0x22);  // multiword DMA 2
  channel.write(7, 1, 0xEF);
  EXPECT_EQ(status() & kStatusErr, 0);
  channel.write(2, 1, 8);
  channel.write(7, 1, 0xC6);
  auto w = identify();
  EXPECT_EQ(w[63], 0x0407);
  EXPECT_EQ(w[59], 0x0108);
  channel.write(1, 1, 0x03);
  channel.write(2, 1, 0x42);  // UDMA 2: not supported
  channel.write(7, 1, 0xEF);
  EXPECT_EQ(status() & kStatusErr, kStatusErr);
  EXPECT_EQ(channel.error(), kErrorAbrt);
}

TEST_F(IdeTest, IdentifyPacketAndUnknownCommandsAbort) {
  channel.write(7, 1, 0xA1);
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc | kStatusErr);
  EXPECT_EQ(channel.read(1, 1), kErrorAbrt);
}

// ---- PIO ------------------------------------------------------------------------

TEST_F(IdeTest, PioReadReturnsImageSectors) {
  lba28(0x20, 5, 2);
  EXPECT_EQ(irq14.edges, 1);
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc | kStatusDrq);
  EXPECT_EQ(read_pio(512), pattern_sector(5));
  EXPECT_EQ(irq14.edges, 2);  // one interrupt per block
  EXPECT_EQ(read_pio(512), pattern_sector(6));
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc);
  EXPECT_EQ(channel.bad_accesses(), 0u);
  channel.read(0, 2);
  EXPECT_EQ(channel.bad_accesses(), 1u);
}

TEST_F(IdeTest, ThirtyTwoBitDataPort) {
  lba28(0x20, 9, 1);
  std::vector<uint8_t> out;
  for (int i = 0; i < 128; ++i) {
    uint32_t d = channel.read(0, 4);
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<uint8_t>(d >> (8 * k)));
  }
  EXPECT_EQ(out, pattern_sector(9));
}

TEST_F(IdeTest, ChsAddressing) {
  // Default translation 16 heads x 63 sectors: C/H/S 1/2/3 is LBA 1134.
  channel.write(6, 1, 0xA2);
  channel.write(2, 1, 1);
  channel.write(3, 1, 3);
  channel.write(4, 1, 1);
  channel.write(5, 1, 0);
  channel.write(7, 1, 0x20);
  EXPECT_EQ(read_pio(512), pattern_sector((1 * 16 + 2) * 63 + 2));
}

TEST_F(IdeTest, InitializeDeviceParametersChangesChsTranslation) {
  channel.write(6, 1, 0xA7);  // 8 heads
  channel.write(2, 1, 32);    // 32 sectors per track
  channel.write(7, 1, 0x91);
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc);
  auto w = identify();
  EXPECT_EQ(w[55], 8);
  EXPECT_EQ(w[56], 32);
  EXPECT_EQ(w[3], 16);  // default geometry unchanged
  channel.write(6, 1, 0xA3);  // head 3
  channel.write(2, 1, 1);
  channel.write(3, 1, 5);     // sector 5
  channel.write(4, 1, 2);     // cylinder 2
  channel.write(5, 1, 0);
  channel.write(7, 1, 0x20);
  EXPECT_EQ(read_pio(512), pattern_sector((2 * 8 + 3) * 32 + 4));
  channel.write(6, 1, 0xA0);
  channel.write(3, 1, 33);  // beyond the 32 sectors per track
  channel.write(7, 1, 0x20);
  EXPECT_EQ(channel.error(), kErrorIdnf);
}

TEST_F(IdeTest, FlushAndPowerCommandsComplete) {
  for (uint8_t command : {0xE7, 0xEA, 0xE0, 0xE1, 0x70, 0x10}) {
    channel.write(7, 1, command);
    EXPECT_EQ(status(), kStatusDrdy | kStatusDsc) << int{command};
  }
  channel.write(7, 1, 0xE5);  // CHECK POWER MODE: active
  EXPECT_EQ(channel.read(2, 1), 0xFFu);
}

TEST_F(IdeTest, Lba48MultipleAndSectorsExt) {
  channel.write(2, 1, 2);
  channel.write(7, 1, 0xC6);
  lba48(0x34, 300, 3);  // WRITE SECTORS EXT
  write_pio(std::vector<uint8_t>(3 * 512, 0x9C));
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc);
  int before = irq14.edges;
  lba48(0x29, 299, 4);  // READ MULTIPLE EXT: blocks of 2
  status();             // a driver acknowledges each block's interrupt
  auto first = read_pio(1024);
  status();
  auto second = read_pio(1024);
  EXPECT_EQ(irq14.edges, before + 2);
  EXPECT_EQ(std::vector<uint8_t>(first.begin(), first.begin() + 512), pattern_sector(299));
  EXPECT_EQ(std::vector<uint8_t>(first.begin() + 512, first.end()), std::vector<uint8_t>(512, 0x9C));
  EXPECT_EQ(second, std::vector<uint8_t>(1024, 0x9C));
  lba48(0x39, 10, 1);  // WRITE MULTIPLE EXT: a partial block
  write_pio(std::vector<uint8_t>(512, 0x01));
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc);
}

TEST_F(IdeTest, WriteGoesToOverlayAndReadsBack) {
  std::string base_before = file_contents(path);
  std::vector<uint8_t> data(1024);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i ^ 0x3C);
  lba28(0x30, 100, 2);
  EXPECT_EQ(irq14.edges, 0);  // no interrupt before the first block
  EXPECT_EQ(status() & kStatusDrq, kStatusDrq);
  write_pio({data.begin(), data.begin() + 512});
  EXPECT_EQ(irq14.edges, 1);
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc | kStatusDrq);  // acknowledges
  write_pio({data.begin() + 512, data.end()});
  EXPECT_EQ(irq14.edges, 2);
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc);
  EXPECT_EQ(image->overlay_sector_count(), 2u);
  EXPECT_EQ(std::hash<std::string>{}(file_contents(path)), std::hash<std::string>{}(base_before));
  lba28(0x20, 99, 3);
  EXPECT_EQ(read_pio(512), pattern_sector(99));
  EXPECT_EQ(read_pio(1024), data);
}

TEST_F(IdeTest, ReadOnlyImageAbortsWrites) {
  channel.attach(0, std::make_shared<DiskImage>(DiskImageConfig{path, DiskMode::ReadOnly}));
  lba28(0x30, 1, 1);
  write_pio(std::vector<uint8_t>(512, 1));
  EXPECT_EQ(status() & kStatusErr, kStatusErr);
  EXPECT_EQ(channel.error(), kErrorAbrt);
}

TEST_F(IdeTest, MultipleModeTransfersBlocks) {
  lba28(0xC4, 0, 4);  // multiple mode not set yet
  EXPECT_EQ(status() & kStatusErr, kStatusErr);
  EXPECT_EQ(channel.error(), kErrorAbrt);
  channel.write(2, 1, 3);  // not a power of two
  channel.write(7, 1, 0xC6);
  EXPECT_EQ(channel.error(), kErrorAbrt);
  channel.write(2, 1, 4);
  channel.write(7, 1, 0xC6);
  EXPECT_EQ(status() & kStatusErr, 0);
  int before = irq14.edges;
  lba28(0xC4, 20, 6);  // blocks of 4 and 2 sectors
  EXPECT_EQ(irq14.edges, before + 1);
  status();
  auto first = read_pio(4 * 512);
  EXPECT_EQ(irq14.edges, before + 2);
  auto second = read_pio(2 * 512);
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc);
  for (unsigned s = 0; s < 4; ++s)
    EXPECT_EQ(std::vector<uint8_t>(first.begin() + s * 512, first.begin() + (s + 1) * 512), pattern_sector(20 + s));
  EXPECT_EQ(std::vector<uint8_t>(second.begin() + 512, second.end()), pattern_sector(25));
  // WRITE MULTIPLE: one interrupt per block, the last at completion.
  before = irq14.edges;
  lba28(0xC5, 40, 5);
  write_pio(std::vector<uint8_t>(4 * 512, 0x11));
  EXPECT_EQ(irq14.edges, before + 1);
  status();
  write_pio(std::vector<uint8_t>(512, 0x22));
  EXPECT_EQ(irq14.edges, before + 2);
  lba28(0x20, 43, 2);
  EXPECT_EQ(read_pio(512), std::vector<uint8_t>(512, 0x11));
  EXPECT_EQ(read_pio(512), std::vector<uint8_t>(512, 0x22));
}

// ---- LBA48 ----------------------------------------------------------------------

TEST_F(IdeTest, Lba48ReadBeyondLba28OnSparseImage) {
  std::string big = dir.file("big.img");
  constexpr uint64_t kBigSectors = (uint64_t{1} << 28) + 64;
  int fd = ::open(big.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(kBigSectors * 512)), 0);
  constexpr uint64_t kTarget = (uint64_t{1} << 28) + 5;
  auto s = pattern_sector(kTarget);
  ASSERT_EQ(::pwrite(fd, s.data(), 512, static_cast<off_t>(kTarget * 512)), 512);
  ::close(fd);
  channel.attach(0, std::make_shared<DiskImage>(DiskImageConfig{big}));

  auto w = identify();
  EXPECT_EQ(w[60] | (uint32_t{w[61]} << 16), 0x0FFFFFFFu);
  uint64_t total = 0;
  for (int i = 3; i >= 0; --i) total = total << 16 | w[100 + i];
  EXPECT_EQ(total, kBigSectors);

  lba48(0x24, kTarget, 2);
  EXPECT_EQ(read_pio(512), s);
  EXPECT_EQ(read_pio(512), std::vector<uint8_t>(512, 0));  // a hole
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc);
  // HOB read-back: the previous bytes written to each register.
  control(kControlHob);
  EXPECT_EQ(channel.read(3, 1), (kTarget >> 24) & 0xFF);
  control(0);
  EXPECT_EQ(channel.read(3, 1), kTarget & 0xFF);
  // LBA28 commands cannot reach it; an LBA48 one past the end is IDNF.
  lba48(0x24, kBigSectors, 1);
  EXPECT_EQ(status() & kStatusErr, kStatusErr);
  EXPECT_EQ(channel.error(), kErrorIdnf);
}

TEST_F(IdeTest, OutOfRangeLbaIsIdnf) {
  lba28(0x20, kSectors - 1, 2);  // runs past the end
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc | kStatusErr);
  EXPECT_EQ(channel.error(), kErrorIdnf);
  EXPECT_EQ(irq14.edges, 1);
  lba28(0x20, kSectors - 1, 1);  // the last sector is fine
  EXPECT_EQ(read_pio(512), pattern_sector(kSectors - 1));
}

// ---- interrupts and resets --------------------------------------------------------

TEST_F(IdeTest, IrqRaisedClearedByStatusAndMaskedByNien) {
  lba28(0x40, 0, 1);  // READ VERIFY
  EXPECT_TRUE(irq14.level);
  EXPECT_TRUE(channel.irq_pending());
  alt_status();  // the alternate status does not acknowledge
  EXPECT_TRUE(irq14.level);
  status();
  EXPECT_FALSE(irq14.level);
  EXPECT_FALSE(channel.irq_pending());

  control(kControlNien);
  lba28(0x40, 0, 1);
  EXPECT_FALSE(irq14.level);
  EXPECT_TRUE(channel.irq_pending());
  control(0);  // unmasking delivers the pending interrupt
  EXPECT_TRUE(irq14.level);
  status();
  EXPECT_FALSE(irq14.level);
}

TEST_F(IdeTest, SoftwareResetLoadsSignature) {
  lba28(0x20, 5, 4);
  control(kControlSrst);
  EXPECT_EQ(alt_status() & kStatusBsy, kStatusBsy);
  control(0);
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc);
  EXPECT_EQ(channel.read(1, 1), 0x01u);
  EXPECT_EQ(channel.read(2, 1), 0x01u);
  EXPECT_EQ(channel.read(3, 1), 0x01u);
  EXPECT_EQ(channel.read(4, 1), 0x00u);
  EXPECT_EQ(channel.read(5, 1), 0x00u);
  EXPECT_FALSE(irq14.level);
  channel.read(0, 2);  // the transfer was dropped
  EXPECT_EQ(channel.bad_accesses(), 1u);
}

TEST_F(IdeTest, ExecuteDeviceDiagnostic) {
  channel.write(3, 1, 0x55);
  channel.write(7, 1, 0x90);
  EXPECT_EQ(channel.read(1, 1), 0x01u);
  EXPECT_EQ(channel.read(3, 1), 0x01u);
  EXPECT_TRUE(irq14.level);
}

TEST_F(IdeTest, AbsentSlaveAndEmptyChannel) {
  channel.write(6, 1, 0xB0);
  EXPECT_EQ(status(), 0x00);
  channel.write(7, 1, 0xEC);  // ignored
  EXPECT_FALSE(irq14.level);
  EXPECT_EQ(secondary.read(7, 1), 0xFFu);
}

// ---- fault hooks ------------------------------------------------------------------

TEST_F(IdeTest, FaultHookUncEndsReadWithError) {
  channel.set_fault_hook(0, [](uint64_t lba, bool) { return lba == 7 ? IoFault::fail(kErrorUnc) : IoFault::none(); });
  lba28(0x20, 5, 4);
  EXPECT_EQ(read_pio(512), pattern_sector(5));
  EXPECT_EQ(read_pio(512), pattern_sector(6));
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc | kStatusErr);
  EXPECT_EQ(channel.error(), kErrorUnc);
  EXPECT_EQ(channel.read(3, 1), 7u);  // the failing sector
}

TEST_F(IdeTest, FaultHookCorruptsAndTimesOut) {
  channel.set_fault_hook(0, [](uint64_t lba, bool write) {
    if (lba == 3 && !write) return IoFault::corruption([](std::span<uint8_t> s) { s[0] ^= 0xFF; });
    if (lba == 4) return IoFault::timeout();
    return IoFault::none();
  });
  lba28(0x20, 3, 1);
  auto got = read_pio(512);
  auto want = pattern_sector(3);
  want[0] ^= 0xFF;
  EXPECT_EQ(got, want);
  EXPECT_EQ(status() & kStatusErr, 0);
  int edges = irq14.edges;
  lba28(0x20, 4, 1);
  EXPECT_EQ(status(), kStatusBsy);
  EXPECT_EQ(irq14.edges, edges);
  channel.write(7, 1, 0xEC);  // ignored while busy
  EXPECT_EQ(status(), kStatusBsy);
  control(kControlSrst);
  control(0);
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc);
}

// ---- DMA ----------------------------------------------------------------------------

TEST_F(IdeTest, DmaReadThroughPrdTable) {
  put_prd(0x1000, 0x2000, 512, false);
  put_prd(0x1008, 0x8000, 1024, true);
  bus_master.write(4, 4, 0x1000);
  EXPECT_EQ(bus_master.read(4, 4), 0x1000u);
  lba28(0xC8, 50, 3);
  EXPECT_FALSE(irq14.level);  // waits for the bus master
  bus_master.write(0, 1, 0x09);  // start, write to memory
  EXPECT_TRUE(irq14.level);
  EXPECT_EQ(bus_master.read(2, 1) & 0x07, 0x04);  // interrupt, not active, no error
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc);
  EXPECT_EQ(std::vector<uint8_t>(ram.begin() + 0x2000, ram.begin() + 0x2200), pattern_sector(50));
  EXPECT_EQ(std::vector<uint8_t>(ram.begin() + 0x8000, ram.begin() + 0x8200), pattern_sector(51));
  EXPECT_EQ(std::vector<uint8_t>(ram.begin() + 0x8200, ram.begin() + 0x8400), pattern_sector(52));
  bus_master.write(2, 1, 0x04);  // write 1 to clear
  EXPECT_EQ(bus_master.read(2, 1) & 0x04, 0);
  bus_master.write(0, 1, 0x00);
}

TEST_F(IdeTest, DmaWriteAndExtAndTableErrors) {
  std::fill(ram.begin() + 0x3000, ram.begin() + 0x3400, 0x77);
  put_prd(0x1000, 0x3000, 1024, true);
  bus_master.write(4, 4, 0x1000);
  bus_master.write(0, 1, 0x01);  // start first, direction: read memory
  lba48(0x35, 200, 2);
  EXPECT_TRUE(irq14.level);
  EXPECT_EQ(status(), kStatusDrdy | kStatusDsc);
  EXPECT_EQ(bus_master.read(2, 1) & 0x07, 0x04);
  bus_master.write(0, 1, 0x00);
  bus_master.write(2, 1, 0x06);
  lba28(0x20, 200, 2);
  EXPECT_EQ(read_pio(1024), std::vector<uint8_t>(1024, 0x77));

  // A table shorter than the transfer: bus master error, command aborted.
  lba28(0xC8, 0, 4);
  bus_master.write(0, 1, 0x09);
  EXPECT_EQ(bus_master.read(2, 1) & 0x07, 0x06);
  EXPECT_EQ(status() & kStatusErr, kStatusErr);
  EXPECT_EQ(channel.error(), kErrorAbrt);
  bus_master.write(0, 1, 0x00);
  bus_master.write(2, 1, 0x06);

  // A table longer than the transfer: done, but the bus master stays active.
  lba28(0xC8, 0, 1);
  bus_master.write(0, 1, 0x09);
  EXPECT_EQ(bus_master.read(2, 1) & 0x07, 0x05);
  EXPECT_EQ(status() & kStatusErr, 0);
}

TEST_F(IdeTest, DmaGateHoldsTransfer) {
  bool allowed = false;
  channel.set_dma_gate([&] { return allowed; });
  put_prd(0x1000, 0x2000, 512, true);
  bus_master.write(4, 4, 0x1000);
  lba28(0xC8, 1, 1);
  bus_master.write(0, 1, 0x09);
  EXPECT_FALSE(irq14.level);
  EXPECT_EQ(bus_master.read(2, 1) & 0x01, 0x01);
  EXPECT_EQ(std::vector<uint8_t>(ram.begin() + 0x2000, ram.begin() + 0x2200), std::vector<uint8_t>(512, 0));
}

// ---- save / load ----------------------------------------------------------------------

TEST_F(IdeTest, SaveLoadSaveIsStableMidTransfer) {
  channel.write(2, 1, 2);
  channel.write(7, 1, 0xC6);
  lba28(0xC4, 30, 4);
  read_pio(100);
  bus_master.write(4, 4, 0x1230);
  control(kControlNien);
  std::string first = channel.save();

  RecordingIrq other_irq;
  IdeChannel copy("ide0", other_irq);
  copy.attach(0, image);
  copy.load(first);
  copy.after_load();
  EXPECT_EQ(copy.save(), first);
  // Both continue identically.
  for (int i = 0; i < 462; ++i) ASSERT_EQ(copy.read(0, 2), channel.read(0, 2));
  EXPECT_EQ(copy.read(7, 1), channel.read(7, 1));

  std::string control_state = channel.control().save();
  copy.control().load(control_state);
  EXPECT_EQ(copy.control().save(), control_state);
  IdeBusMaster other_bm{copy, secondary};
  other_bm.load(bus_master.save());
  EXPECT_EQ(other_bm.save(), bus_master.save());
  EXPECT_EQ(other_bm.read(4, 4), 0x1230u);
}

TEST_F(IdeTest, DmaWaitingForBusMasterSurvivesSaveLoad) {
  put_prd(0x1000, 0x6000, 512, true);
  bus_master.write(4, 4, 0x1000);
  lba28(0xC8, 77, 1);  // the drive waits for the bus master
  std::string state = channel.save();
  RecordingIrq other_irq;
  IdeChannel copy("ide0", other_irq);
  copy.attach(0, image);
  copy.set_dma_memory(DmaMemory{[this](uint64_t a, void* d, size_t n) {
                                  std::memcpy(d, ram.data() + a, n);
                                  return true;
                                },
                                [this](uint64_t a, const void* src, size_t n) {
                                  std::memcpy(ram.data() + a, src, n);
                                  return true;
                                }});
  copy.load(state);
  copy.after_load();
  IdeBusMaster copy_bm{copy, secondary};
  copy_bm.write(0, 1, 0x09);
  EXPECT_TRUE(other_irq.level);
  EXPECT_EQ(std::vector<uint8_t>(ram.begin() + 0x6000, ram.begin() + 0x6200), pattern_sector(77));
}

TEST_F(IdeTest, BusMasterStatusBits) {
  bus_master.write(2, 1, 0x60);  // drive DMA capable bits are plain storage
  EXPECT_EQ(bus_master.read(2, 1), 0x60u);
  lba28(0x40, 0, 1);  // any interrupt sets the interrupt bit
  EXPECT_EQ(bus_master.read(2, 1), 0x64u);
  bus_master.write(2, 1, 0x60);  // writing 0 leaves it
  EXPECT_EQ(bus_master.read(2, 1), 0x64u);
  bus_master.write(2, 1, 0x04);  // writing 1 clears it (and the capable bits)
  EXPECT_EQ(bus_master.read(2, 1), 0x00u);
  EXPECT_EQ(bus_master.read(10, 1), 0x00u);  // secondary untouched
}

TEST_F(IdeTest, LoadRejectsMismatchedDrivesAndGarbage) {
  std::string state = channel.save();
  IdeChannel empty("ide0", irq15);
  EXPECT_THROW(empty.load(state), std::runtime_error);
  EXPECT_THROW(channel.load("\xFF\xFF garbage"), std::runtime_error);
}

}  // namespace
}  // namespace faultline
