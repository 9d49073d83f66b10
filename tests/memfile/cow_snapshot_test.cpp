#include <gtest/gtest.h>
#include <sys/mman.h>

#include "memfile/memfile.h"
#include "tests/memfile/test_support.h"

namespace faultline {
namespace {

using testing::ScratchDir;
using testing::contents;
using testing::fill_random;
using testing::read_file;
using testing::write_byte;

constexpr std::size_t kPages = 64;
constexpr std::size_t kSize = kPages * kGuestPageSize;

class CowSnapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    MemFile golden = MemFile::create_anonymous(kSize);
    fill_random(golden, 30);
    golden.write_snapshot(file_);
    snapshot_contents_ = contents(golden);
    snapshot_file_bytes_ = read_file(file_);
  }

  ScratchDir dir_;
  std::filesystem::path file_ = dir_.file("golden.snap");
  std::vector<std::uint8_t> snapshot_contents_;
  std::vector<std::uint8_t> snapshot_file_bytes_;
};

TEST_F(CowSnapshot, MapsTheSnapshotInPlaceAndKeepsTheFileUnchanged) {
  MemFile memory = MemFile::create_anonymous(kSize);
  std::uint8_t* const address = memory.data();

  memory.map_snapshot_cow(file_);
  EXPECT_TRUE(memory.is_cow_mapped());
  EXPECT_EQ(memory.data(), address);
  EXPECT_EQ(contents(memory), snapshot_contents_);

  write_byte(memory, 7 * kGuestPageSize, 0x99);
  EXPECT_EQ(memory.data()[7 * kGuestPageSize], 0x99);
  EXPECT_EQ(read_file(file_), snapshot_file_bytes_);
}

TEST_F(CowSnapshot, RestoreDiscardsExactlyTheDirtyPages) {
  MemFile memory = MemFile::create_anonymous(kSize);
  memory.map_snapshot_cow(file_);
  const MemorySnapshot snapshot = MemorySnapshot::open(file_);

  write_byte(memory, 3 * kGuestPageSize, ~snapshot_contents_[3 * kGuestPageSize]);
  write_byte(memory, 4 * kGuestPageSize + 1, ~snapshot_contents_[4 * kGuestPageSize + 1]);
  write_byte(memory, 60 * kGuestPageSize, ~snapshot_contents_[60 * kGuestPageSize]);
  memory.data()[20 * kGuestPageSize] ^= 0xFF;  // untracked: must survive

  memory.restore_snapshot(snapshot);

  EXPECT_TRUE(memory.is_cow_mapped());
  EXPECT_EQ(memory.last_restore_pages(), 3u);
  auto expected = snapshot_contents_;
  expected[20 * kGuestPageSize] ^= 0xFF;
  EXPECT_EQ(contents(memory), expected);
}

TEST_F(CowSnapshot, BreaksSharingThroughFdUntilUnmapped) {
  MemFile memory = MemFile::create_anonymous(kSize);
  void* mapped = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, memory.fd(), 0);
  ASSERT_NE(mapped, MAP_FAILED);
  const auto* other_view = static_cast<const std::uint8_t*>(mapped);

  memory.map_snapshot_cow(file_);
  write_byte(memory, 0, 0x5A);
  EXPECT_NE(other_view[0], 0x5A);  // the trade-off the design note describes

  memory.unmap_snapshot_cow();
  EXPECT_FALSE(memory.is_cow_mapped());
  EXPECT_EQ(contents(memory), std::vector<std::uint8_t>(other_view, other_view + kSize));
  EXPECT_EQ(memory.dirty_count(), 1u);
  memory.data()[kSize - 1] = 0xA5;
  EXPECT_EQ(other_view[kSize - 1], 0xA5);

  ::munmap(mapped, kSize);
}

TEST_F(CowSnapshot, WorksFromAnInMemorySnapshotAndSwitchesToAnother) {
  MemFile memory = MemFile::create_anonymous(kSize);
  fill_random(memory, 31);
  const auto in_memory_contents = contents(memory);
  const MemorySnapshot in_memory = memory.snapshot_in_memory();

  memory.map_snapshot_cow(in_memory);
  write_byte(memory, 0, 1);
  EXPECT_EQ(contents(memory)[0], 1);

  memory.restore_snapshot(MemorySnapshot::open(file_));
  EXPECT_EQ(memory.last_restore_pages(), kPages);
  EXPECT_EQ(contents(memory), snapshot_contents_);

  memory.restore_snapshot(in_memory);
  EXPECT_EQ(contents(memory), in_memory_contents);
}

}  // namespace
}  // namespace faultline
