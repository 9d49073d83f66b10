#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "memfile/memfile.h"
#include "tests/memfile/test_support.h"

namespace faultline {
namespace {

using testing::ScratchDir;
using testing::contents;
using testing::fill_random;
using testing::write_byte;

constexpr std::size_t kPages = 64;
constexpr std::size_t kSize = kPages * kGuestPageSize;

TEST(DirtyPageSnapshot, HoldsOnlyTheDirtyPagesAndRestoresOnTopOfItsBase) {
  ScratchDir dir;
  MemFile memory = MemFile::create_anonymous(kSize);
  fill_random(memory, 20);
  memory.write_snapshot(dir.file("base.snap"));
  const MemorySnapshot base = MemorySnapshot::open(dir.file("base.snap"));

  fill_random(memory, 21, 4, 2);
  write_byte(memory, 50 * kGuestPageSize + 3, 0x77);
  // A page zeroed since the base must come back zero, not as the base's page.
  std::fill_n(memory.data() + 9 * kGuestPageSize, kGuestPageSize, 0);
  memory.mark_dirty(9 * kGuestPageSize);
  const auto expected = contents(memory);
  memory.write_dirty_snapshot(dir.file("delta.snap"), base);

  // Header page, one page of bitmap, the four dirty pages.
  EXPECT_EQ(std::filesystem::file_size(dir.file("delta.snap")), (1 + 1 + 4) * kGuestPageSize);

  fill_random(memory, 22, 30, 3);
  const MemorySnapshot delta = MemorySnapshot::open_delta(dir.file("delta.snap"), base);
  memory.restore_snapshot(delta);

  EXPECT_EQ(contents(memory), expected);
  EXPECT_EQ(memory.last_restore_pages(), 3u);  // the delta is the baseline now
}

TEST(DirtyPageSnapshot, DirtyPageSnapshotsChain) {
  ScratchDir dir;
  MemFile memory = MemFile::create_anonymous(kSize);
  fill_random(memory, 23);
  const MemorySnapshot base = memory.snapshot_in_memory();
  write_byte(memory, 1 * kGuestPageSize, 1);
  memory.write_dirty_snapshot(dir.file("first.snap"), base);
  const MemorySnapshot first = MemorySnapshot::open_delta(dir.file("first.snap"), base);
  write_byte(memory, 2 * kGuestPageSize, 2);
  memory.write_dirty_snapshot(dir.file("second.snap"), first);
  const auto expected = contents(memory);

  MemFile other = MemFile::create_anonymous(kSize);
  other.restore_snapshot(MemorySnapshot::open_delta(dir.file("second.snap"), first));
  EXPECT_EQ(contents(other), expected);
}

TEST(DirtyPageSnapshot, WritingAgainstASnapshotThatIsNotTheBaselineIsRejected) {
  ScratchDir dir;
  MemFile memory = MemFile::create_anonymous(kSize);
  const MemorySnapshot older = memory.snapshot_in_memory();
  write_byte(memory, 0, 1);
  const MemorySnapshot newer = memory.snapshot_in_memory();
  write_byte(memory, kGuestPageSize, 1);

  EXPECT_THROW(memory.write_dirty_snapshot(dir.file("delta.snap"), older), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("delta.snap")));
  EXPECT_NO_THROW(memory.write_dirty_snapshot(dir.file("delta.snap"), newer));
}

TEST(DirtyPageSnapshot, OpeningWithTheWrongBaseNamesTheFile) {
  ScratchDir dir;
  MemFile memory = MemFile::create_anonymous(kSize);
  const MemorySnapshot base = memory.snapshot_in_memory();
  write_byte(memory, 0, 1);
  memory.write_dirty_snapshot(dir.file("delta.snap"), base);

  MemFile unrelated = MemFile::create_anonymous(kSize);
  const MemorySnapshot wrong_base = unrelated.snapshot_in_memory();
  try {
    MemorySnapshot::open_delta(dir.file("delta.snap"), wrong_base);
    ADD_FAILURE() << "applied a dirty-page snapshot to the wrong base";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(dir.file("delta.snap").string()), std::string::npos) << message;
    EXPECT_NE(message.find("different base"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace faultline
