// Linux boot protocol loader: errors on crafted bad images, and a synthetic
// minimal bzImage (setup header + a tiny 32-bit payload) booted end to end,
// with boot_params checked from memory and from the payload itself.
#include "core/boot/linux_boot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/machine.h"
#include "devices/pc/pc_platform.h"

namespace faultline {
namespace {

// Payload at 0x100000: prints type_of_loader, CS, DS, then the command line
// (via cmd_line_ptr) to port 0xE9 and exits with ESI as the status.
const std::vector<uint8_t> kPayload = {
    0x8A, 0x86, 0x10, 0x02, 0x00, 0x00,  // mov al, [esi+0x210]
    0xE6, 0xE9,                          // out 0xE9, al
    0x8C, 0xC8, 0xE6, 0xE9,              // mov eax, cs; out 0xE9, al
    0x8C, 0xD8, 0xE6, 0xE9,              // mov eax, ds; out 0xE9, al
    0x8B, 0x9E, 0x28, 0x02, 0x00, 0x00,  // mov ebx, [esi+0x228]
    0x8A, 0x03,                          // next: mov al, [ebx]
    0x84, 0xC0,                          // test al, al
    0x74, 0x05,                          // jz done
    0xE6, 0xE9,                          // out 0xE9, al
    0x43,                                // inc ebx
    0xEB, 0xF5,                          // jmp next
    0x89, 0xF0,                          // done: mov eax, esi
    0xE7, 0xF4,                          // out 0xF4, eax
};

std::vector<uint8_t> make_bzimage(uint16_t version = 0x020F, std::vector<uint8_t> payload = kPayload) {
  const uint32_t setup_sects = 2;
  std::vector<uint8_t> img((setup_sects + 1) * 512, 0);
  auto put16 = [&img](uint32_t at, uint16_t v) { std::memcpy(&img[at], &v, 2); };
  auto put32 = [&img](uint32_t at, uint32_t v) { std::memcpy(&img[at], &v, 4); };
  img[0x1F1] = setup_sects;
  put32(0x1F4, static_cast<uint32_t>((payload.size() + 15) / 16));
  put16(0x1FE, 0xAA55);
  img[0x200] = 0xEB;
  img[0x201] = 0x66;  // header ends at 0x268
  std::memcpy(&img[0x202], "HdrS", 4);
  put16(0x206, version);
  img[0x211] = 0x01;  // LOADED_HIGH
  put32(0x214, 0x100000);
  put32(0x22C, 0x37FFFFFF);  // initrd_addr_max
  put32(0x238, 255);         // cmdline_size
  put32(0x260, 0x20000);     // init_size
  size_t setup_end = img.size();
  img.resize(setup_end + payload.size());  // (insert() trips a GCC 12 -Warray-bounds false positive)
  std::memcpy(img.data() + setup_end, payload.data(), payload.size());
  return img;
}

class LinuxBootTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& p : files_) std::remove(p.c_str());
  }
  std::string write_file(const std::string& name, const std::vector<uint8_t>& data) {
    std::string path = ::testing::TempDir() + "fl_linux_" + std::to_string(::getpid()) + "_" + name;
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data.data()),
                                                static_cast<std::streamsize>(data.size()));
    files_.push_back(path);
    return path;
  }
  std::string load_error(const std::vector<uint8_t>& image, uint64_t memory_mib = 32, std::string cmdline = "") {
    std::string path = write_file("bad", image);
    MachineConfig cfg;
    cfg.memory_mib = memory_mib;
    Machine m{cfg};
    try {
      linux_load(m, {path, "", cmdline});
    } catch (const std::runtime_error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      return msg;
    }
    return "no error";
  }
  std::vector<std::string> files_;
};

TEST_F(LinuxBootTest, MissingFileIsNamed) {
  Machine m{MachineConfig{}};
  try {
    linux_load(m, {"/nonexistent/bzImage", "", ""});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/bzImage: cannot open"), std::string::npos) << e.what();
  }
}

TEST_F(LinuxBootTest, RejectsBadImages) {
  EXPECT_NE(load_error({1, 2, 3}).find("truncated"), std::string::npos);
  std::vector<uint8_t> img = make_bzimage();
  std::memcpy(&img[0x202], "HdrX", 4);
  EXPECT_NE(load_error(img).find("not a bzImage"), std::string::npos);
  img = make_bzimage();
  img[0x1FE] = 0;
  EXPECT_NE(load_error(img).find("boot flag"), std::string::npos);
  EXPECT_NE(load_error(make_bzimage(0x0204)).find("boot protocol 2.4 is too old"), std::string::npos);
  img = make_bzimage();
  img[0x211] = 0;
  EXPECT_NE(load_error(img).find("LOADED_HIGH"), std::string::npos);
  // Setup code only, no protected-mode kernel.
  img = make_bzimage();
  img.resize(3 * 512);
  EXPECT_NE(load_error(img).find("truncated"), std::string::npos);
  // syssize larger than what follows the setup code.
  img = make_bzimage(0x020F, std::vector<uint8_t>(64, 0x90));
  img.resize(img.size() - 20);
  EXPECT_NE(load_error(img).find("truncated"), std::string::npos);
  // init_size beyond RAM.
  img = make_bzimage();
  uint32_t huge = 40u << 20;
  std::memcpy(&img[0x260], &huge, 4);
  EXPECT_NE(load_error(img).find("too large for guest RAM"), std::string::npos);
  EXPECT_NE(load_error(make_bzimage(), 32, std::string(300, 'x')).find("command line"), std::string::npos);
}

TEST_F(LinuxBootTest, InitrdErrorsNameTheInitrd) {
  std::string kernel = write_file("bz", make_bzimage());
  Machine m{MachineConfig{}};
  try {
    linux_load(m, {kernel, "/nonexistent/initrd.img", ""});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/initrd.img: cannot open initrd"), std::string::npos);
  }
  MachineConfig small;
  small.memory_mib = 2;
  Machine m2{small};
  std::string initrd = write_file("initrd", std::vector<uint8_t>(1u << 20, 7));
  EXPECT_THROW(linux_load(m2, {kernel, initrd, ""}), std::runtime_error);
}

TEST_F(LinuxBootTest, SyntheticBzImageBootsWithProtocolState) {
  std::string kernel = write_file("bz", make_bzimage());
  std::vector<uint8_t> initrd_data(10000);
  for (size_t i = 0; i < initrd_data.size(); ++i) initrd_data[i] = static_cast<uint8_t>(i * 7);
  std::string initrd = write_file("initrd", initrd_data);
  Machine m{MachineConfig{}};  // 32 MiB
  PcPlatform pc{m};
  LinuxBootInfo info = linux_load(m, {kernel, initrd, "console=ttyS0 quiet"});
  EXPECT_EQ(info.protocol, 0x020F);
  EXPECT_EQ(info.boot_params, linux_boot::kBootParams);
  EXPECT_EQ(info.entry, 0x100000u);
  EXPECT_EQ(info.setup_size, 3u * 512);

  Cpu& c = m.cpu();
  EXPECT_EQ(c.s.seg[CS].selector, 0x10);
  EXPECT_EQ(c.s.seg[DS].selector, 0x18);
  EXPECT_EQ(c.s.seg[SS].selector, 0x18);
  EXPECT_EQ(c.eflags() & 0x200, 0u);  // interrupts off
  EXPECT_EQ(c.s.gpr[ESI], info.boot_params);
  EXPECT_TRUE(c.protected_mode());
  EXPECT_EQ(c.s.cr0 & CR0_PG, 0u);

  auto rd = [&c](uint32_t at, size_t n) {
    uint64_t v = 0;
    c.read_phys(at, &v, n);
    return v;
  };
  const uint32_t bp = info.boot_params;
  EXPECT_EQ(rd(bp + 0x202, 4), 0x53726448u);  // header copied
  EXPECT_EQ(rd(bp + 0x206, 2), 0x020Fu);
  EXPECT_EQ(rd(bp + 0x210, 1), 0xFFu);  // type_of_loader
  EXPECT_EQ(rd(bp + 0x211, 1) & 1, 1u);
  EXPECT_EQ(rd(bp + 0x228, 4), info.cmdline);
  EXPECT_EQ(rd(bp + 0x1E0, 4), (32u << 10) - 1024);  // alt_mem_k
  // Initrd: page aligned, as high as fits, contents intact.
  uint32_t ramdisk = static_cast<uint32_t>(rd(bp + 0x218, 4));
  EXPECT_EQ(ramdisk, info.initrd);
  EXPECT_EQ(rd(bp + 0x21C, 4), initrd_data.size());
  EXPECT_EQ(ramdisk % 4096, 0u);
  EXPECT_LE(ramdisk + initrd_data.size(), 32u << 20);
  EXPECT_GT(ramdisk + initrd_data.size() + 4096, 32u << 20);
  std::vector<uint8_t> back(initrd_data.size());
  c.read_phys(ramdisk, back.data(), back.size());
  EXPECT_EQ(back, initrd_data);
  // e820.
  ASSERT_EQ(rd(bp + 0x1E8, 1), 3u);
  const uint64_t expect[3][3] = {{0, 0x9FC00, 1}, {0x9FC00, 0x100000 - 0x9FC00, 2}, {0x100000, (32u << 20) - 0x100000, 1}};
  for (int i = 0; i < 3; ++i) {
    uint32_t e = bp + 0x2D0 + 20 * i;
    EXPECT_EQ(rd(e, 8), expect[i][0]) << i;
    EXPECT_EQ(rd(e + 8, 8), expect[i][1]) << i;
    EXPECT_EQ(rd(e + 16, 4), expect[i][2]) << i;
  }

  // The payload reads boot_params through ESI and the GDT's selectors.
  RunResult r = m.run(10'000);
  ASSERT_EQ(r.outcome, RunOutcome::Exited);
  EXPECT_EQ(r.exit_status, info.boot_params);
  EXPECT_EQ(m.console_output(), std::string("\xFF\x10\x18") + "console=ttyS0 quiet");
}

TEST_F(LinuxBootTest, NoInitrdLeavesRamdiskFieldsZero) {
  std::string kernel = write_file("bz", make_bzimage(0x0206));
  Machine m{MachineConfig{}};
  LinuxBootInfo info = linux_load(m, {kernel, "", ""});
  uint32_t v = 1;
  m.cpu().read_phys(info.boot_params + 0x218, &v, 4);
  EXPECT_EQ(v, 0u);
  RunResult r = m.run(10'000);
  ASSERT_EQ(r.outcome, RunOutcome::Exited);
  EXPECT_EQ(m.console_output(), "\xFF\x10\x18");
}

}  // namespace
}  // namespace faultline
