// fw_cfg: signature, ID, numeric items (little-endian), the file directory
// (big-endian fields, 64-byte entries from selector 0x20), state round trip.
#include "devices/fw_cfg/fw_cfg.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/machine.h"
#include "devices/pc/pc_platform.h"

namespace faultline {
namespace {

std::vector<uint8_t> read_item(FwCfg& fw, uint16_t key, size_t n) {
  fw.write(FwCfg::kSelectorOffset, 2, key);
  std::vector<uint8_t> out;
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(fw.read(FwCfg::kDataOffset, 1)));
  return out;
}
uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
}
uint16_t be16(const std::vector<uint8_t>& b, size_t at) { return static_cast<uint16_t>((b[at] << 8) | b[at + 1]); }

TEST(FwCfgTest, SignatureAndTraditionalInterfaceId) {
  FwCfg fw;
  EXPECT_EQ(read_item(fw, fw_cfg_key::kSignature, 4), (std::vector<uint8_t>{'Q', 'E', 'M', 'U'}));
  EXPECT_EQ(read_item(fw, fw_cfg_key::kId, 4), (std::vector<uint8_t>{1, 0, 0, 0}));  // no DMA bit
  // Past the end and unknown keys read as zero.
  EXPECT_EQ(read_item(fw, fw_cfg_key::kSignature, 6)[5], 0);
  EXPECT_EQ(read_item(fw, 0x1234, 2), (std::vector<uint8_t>{0, 0}));
  // A 16-bit data read returns two successive bytes.
  fw.write(FwCfg::kSelectorOffset, 2, fw_cfg_key::kSignature);
  EXPECT_EQ(fw.read(FwCfg::kDataOffset, 2), 0x4551u);  // "QE"
  // Data-port writes are ignored.
  fw.write(FwCfg::kDataOffset, 1, 0xFF);
  EXPECT_EQ(fw.read(FwCfg::kDataOffset, 1), uint32_t{'M'});
}

TEST(FwCfgTest, NumericItemsAreLittleEndian) {
  FwCfg fw;
  fw.set_u64(fw_cfg_key::kRamSize, 0x0000000102030405ull);
  fw.set_u16(fw_cfg_key::kNbCpus, 1);
  EXPECT_EQ(read_item(fw, fw_cfg_key::kRamSize, 8), (std::vector<uint8_t>{5, 4, 3, 2, 1, 0, 0, 0}));
  EXPECT_EQ(read_item(fw, fw_cfg_key::kNbCpus, 2), (std::vector<uint8_t>{1, 0}));
  EXPECT_THROW(fw.set_u32(fw_cfg_key::kFileDir, 0), std::invalid_argument);
  EXPECT_THROW(fw.set_u32(0x0020, 0), std::invalid_argument);
}

TEST(FwCfgTest, FileDirectoryIsBigEndianWith64ByteEntries) {
  FwCfg fw;
  EXPECT_EQ(read_item(fw, fw_cfg_key::kFileDir, 4), (std::vector<uint8_t>{0, 0, 0, 0}));
  uint16_t a = fw.add_file("etc/e820", std::vector<uint8_t>(40, 0xAB));
  uint16_t b = fw.add_file("bootorder", {'/', 'x', '\n'});
  EXPECT_EQ(a, 0x20);
  EXPECT_EQ(b, 0x21);
  std::vector<uint8_t> dir = read_item(fw, fw_cfg_key::kFileDir, 4 + 2 * 64);
  EXPECT_EQ(be32(dir, 0), 2u);
  EXPECT_EQ(be32(dir, 4), 40u);
  EXPECT_EQ(be16(dir, 8), 0x20);
  EXPECT_EQ(be16(dir, 10), 0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&dir[12])), "etc/e820");
  EXPECT_EQ(be32(dir, 68), 3u);
  EXPECT_EQ(be16(dir, 72), 0x21);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&dir[76])), "bootorder");
  EXPECT_EQ(read_item(fw, b, 3), (std::vector<uint8_t>{'/', 'x', '\n'}));
  // Replacing a file keeps its selector and updates its size.
  EXPECT_EQ(fw.add_file("bootorder", {1}), 0x21);
  EXPECT_EQ(be32(read_item(fw, fw_cfg_key::kFileDir, 72), 68), 1u);
  EXPECT_THROW(fw.add_file(std::string(56, 'x'), {}), std::invalid_argument);
  EXPECT_THROW(fw.add_file("", {}), std::invalid_argument);
}

TEST(FwCfgTest, SaveLoadSaveKeepsTheCursor) {
  FwCfg fw;
  fw.write(FwCfg::kSelectorOffset, 2, fw_cfg_key::kSignature);
  fw.read(FwCfg::kDataOffset, 1);
  std::string a = fw.save();
  FwCfg other;
  other.load(a);
  EXPECT_EQ(other.save(), a);
  EXPECT_EQ(other.read(FwCfg::kDataOffset, 1), uint32_t{'E'});
  EXPECT_THROW(other.load("\xff\xff"), std::runtime_error);
}

TEST(FwCfgTest, PlatformPublishesRamSizeCpusAndE820) {
  MachineConfig cfg;
  cfg.memory_mib = 48;
  Machine m{cfg};
  PcPlatform pc{m};
  Bus& bus = m.bus();
  auto read = [&bus](uint16_t key, size_t n) {
    bus.io_write(0x510, 2, key);
    std::vector<uint8_t> out;
    for (size_t i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(bus.io_read(0x511, 1)));
    return out;
  };
  std::vector<uint8_t> ram = read(fw_cfg_key::kRamSize, 8);
  uint64_t bytes = 0;
  for (int i = 7; i >= 0; --i) bytes = (bytes << 8) | ram[i];
  EXPECT_EQ(bytes, 48ull << 20);
  EXPECT_EQ(read(fw_cfg_key::kNbCpus, 2), (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(read(fw_cfg_key::kMaxCpus, 2), (std::vector<uint8_t>{1, 0}));
  std::vector<uint8_t> dir = read(fw_cfg_key::kFileDir, 4 + 64);
  ASSERT_EQ(be32(dir, 0), 1u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&dir[12])), "etc/e820");
  ASSERT_EQ(be32(dir, 4), 40u);
  std::vector<uint8_t> e820 = read(be16(dir, 8), 40);
  auto le = [&e820](size_t at, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;) v = (v << 8) | e820[at + i];
    return v;
  };
  EXPECT_EQ(le(0, 8), 0u);
  EXPECT_EQ(le(8, 8), 0x9FC00u);
  EXPECT_EQ(le(16, 4), 1u);
  EXPECT_EQ(le(20, 8), 0x100000u);
  EXPECT_EQ(le(28, 8), (48ull << 20) - 0x100000);
  EXPECT_EQ(le(36, 4), 1u);
}

}  // namespace
}  // namespace faultline
