// The instruction table is the single source of truth; these tests keep it
// honest: every row has a handler, and the decoder's lengths are right for
// hand-checked encodings.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/bus.h"
#include "core/clock.h"
#include "core/cpu.h"

namespace faultline {
namespace {

TEST(InstructionTable, EveryRowHasBothHandlers) {
  std::vector<std::string> missing;
  for (unsigned op = 0; op < 512; ++op) {
    for (unsigned reg = 0; reg < 8; ++reg) {
      const InsnInfo& info = insn_info(static_cast<uint16_t>(op), static_cast<uint8_t>(reg));
      if (!info.defined) continue;
      if (!info.h16) missing.push_back(info.name16);
      if (!info.h32) missing.push_back(info.name32);
      if (!insn_is_group(static_cast<uint16_t>(op))) break;
    }
  }
  std::string list;
  for (auto& m : missing) list += m + " ";
  EXPECT_TRUE(missing.empty()) << "handlers not implemented: " << list;
}

struct LenCase {
  std::vector<uint8_t> bytes;
  bool code32;
  unsigned len;
};

TEST(Decoder, LengthsOfHandCheckedEncodings) {
  const LenCase cases[] = {
      {{0x90}, true, 1},
      {{0x66, 0x05, 0x34, 0x12}, true, 4},                          // add ax, 0x1234
      {{0x05, 0x78, 0x56, 0x34, 0x12}, true, 5},                    // add eax, imm32
      {{0x8B, 0x44, 0x24, 0x08}, true, 4},                          // mov eax,[esp+8]
      {{0x8B, 0x05, 1, 2, 3, 4}, true, 6},                          // mov eax,[disp32]
      {{0x8B, 0x04, 0x25, 1, 2, 3, 4}, true, 7},                    // SIB no base
      {{0x67, 0x8B, 0x06, 0x34, 0x12}, true, 5},                    // 16-bit [disp16]
      {{0x8B, 0x46, 0x02}, false, 3},                               // mov ax,[bp+2]
      {{0xC7, 0x80, 1, 2, 3, 4, 5, 6, 7, 8}, true, 10},             // mov [eax+d32], imm32
      {{0xF6, 0xC0, 0x12}, true, 3},                                // test al, imm8
      {{0xF6, 0xD0}, true, 2},                                      // not al
      {{0xC8, 0x10, 0x00, 0x02}, true, 4},                          // enter 16, 2
      {{0xEA, 1, 2, 3, 4, 0x08, 0x00}, true, 7},                    // jmp far ptr16:32
      {{0xEA, 1, 2, 0x08, 0x00}, false, 5},                         // jmp far ptr16:16
      {{0xA1, 1, 2, 3, 4}, true, 5},                                // mov eax, moffs32
      {{0x67, 0xA1, 1, 2}, true, 4},                                // mov eax, moffs16
      {{0x0F, 0x20, 0xC0}, true, 3},                                // mov eax, cr0
      {{0x0F, 0x20, 0x05}, true, 3},                                // mod ignored for CR moves
      {{0x0F, 0xBA, 0xE0, 0x05}, true, 4},                          // bt eax, 5
      {{0xD9, 0xE8}, true, 2},                                      // fld1
      {{0xDD, 0x05, 1, 2, 3, 4}, true, 6},                          // fld qword [disp32]
  };
  for (const auto& c : cases) {
    Insn insn;
    DecodeStatus st = decode(c.bytes.data(), static_cast<unsigned>(c.bytes.size()), c.code32, insn);
    EXPECT_NE(st, DecodeStatus::NeedMoreBytes);
    EXPECT_EQ(insn.len, c.len) << "first byte " << std::hex << int(c.bytes[0]);
  }
}

TEST(Decoder, DefaultSegmentFollowsBaseRegister) {
  Insn insn;
  const uint8_t ebp_based[] = {0x8B, 0x45, 0x08};  // mov eax,[ebp+8]
  decode(ebp_based, 3, true, insn);
  EXPECT_EQ(insn.seg, SS);
  const uint8_t override_es[] = {0x26, 0x8B, 0x45, 0x08};
  decode(override_es, 4, true, insn);
  EXPECT_EQ(insn.seg, ES);
  const uint8_t bx_si[] = {0x8B, 0x00};  // 16-bit mov ax,[bx+si]
  decode(bx_si, 2, false, insn);
  EXPECT_EQ(insn.seg, DS);
  EXPECT_EQ(insn.base, EBX);
  EXPECT_EQ(insn.index, ESI);
}

TEST(Decoder, UndefinedAndTooLong) {
  Insn insn;
  const uint8_t undefined[] = {0x0F, 0x0F, 0xC0};  // 3DNow! escape: not an i686 opcode
  EXPECT_EQ(decode(undefined, 3, true, insn), DecodeStatus::Undefined);
  std::vector<uint8_t> prefixes(15, 0x66);
  prefixes.push_back(0x90);
  EXPECT_EQ(decode(prefixes.data(), static_cast<unsigned>(prefixes.size()), true, insn), DecodeStatus::TooLong);
  const uint8_t truncated[] = {0x05, 0x01};
  EXPECT_EQ(decode(truncated, 2, true, insn), DecodeStatus::NeedMoreBytes);
}

TEST(Bus, OverlappingRangesAreRejectedAndUnclaimedPortsFloatHigh) {
  Bus bus;
  uint32_t last = 0;
  bus.register_io(0x40, 4, "pit", IoHandler{[](uint32_t off, unsigned) { return 0x10 + off; },
                                            [&](uint32_t off, unsigned, uint32_t v) { last = off * 256 + v; }});
  EXPECT_THROW(bus.register_io(0x43, 2, "clash", IoHandler{}), std::invalid_argument);
  EXPECT_THROW(bus.register_io(0x10, 0, "empty", IoHandler{}), std::invalid_argument);
  EXPECT_EQ(bus.io_read(0x42, 1), 0x12u);  // device sees its own offset
  bus.io_write(0x41, 1, 7);
  EXPECT_EQ(last, 0x107u);
  EXPECT_EQ(bus.io_read(0x300, 1), 0xFFu);
  EXPECT_EQ(bus.io_read(0x300, 2), 0xFFFFu);
  EXPECT_EQ(bus.io_read(0x301, 4), 0xFFFFFFFFu);
  EXPECT_EQ(bus.unclaimed_io_reads(), 3u);
  EXPECT_EQ(bus.unclaimed_ports().at(0x300), 2u);
}

TEST(VirtualClock, EventsRunInTimeThenSchedulingOrder) {
  VirtualClock clock(1'000'000);  // 1 instruction = 1 us
  std::vector<int> order;
  clock.schedule_at_tick(20, [&] { order.push_back(2); });
  auto id = clock.schedule_at_tick(10, [&] { order.push_back(99); });
  clock.schedule_at_tick(10, [&] { order.push_back(1); });
  clock.schedule_at_tick(20, [&] { order.push_back(3); });
  EXPECT_TRUE(clock.cancel(id));
  EXPECT_EQ(clock.dispatch(9), 10u);
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(clock.dispatch(25), UINT64_MAX);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(clock.ticks_to_ns(3), 3000u);
  EXPECT_EQ(clock.ns_to_ticks(2500), 3u);
}

}  // namespace
}  // namespace faultline
