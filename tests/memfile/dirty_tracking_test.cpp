#include <gtest/gtest.h>

#include <vector>

#include "memfile/memfile.h"

namespace faultline {
namespace {

// 300 pages: more than one bitmap word and not a multiple of 64.
constexpr std::size_t kPages = 300;

std::vector<std::size_t> dirty_pages(const MemFile& memory) {
  std::vector<std::size_t> pages;
  memory.for_each_dirty_page([&](std::size_t page) { pages.push_back(page); });
  return pages;
}

TEST(DirtyTracking, NewMemFileHasNoDirtyPages) {
  MemFile memory = MemFile::create_anonymous(kPages * kGuestPageSize);
  EXPECT_EQ(memory.dirty_count(), 0u);
  EXPECT_TRUE(dirty_pages(memory).empty());
}

TEST(DirtyTracking, MarkDirtySetsTheContainingPageOnly) {
  MemFile memory = MemFile::create_anonymous(kPages * kGuestPageSize);
  memory.mark_dirty(0x1234);
  memory.mark_dirty(memory.size() - 1);

  EXPECT_TRUE(memory.is_page_dirty(1));
  EXPECT_TRUE(memory.is_page_dirty(kPages - 1));
  EXPECT_FALSE(memory.is_page_dirty(0));
  EXPECT_FALSE(memory.is_page_dirty(2));
  EXPECT_EQ(memory.dirty_count(), 2u);
}

TEST(DirtyTracking, MarkDirtyRangeCoversEveryTouchedPage) {
  MemFile memory = MemFile::create_anonymous(kPages * kGuestPageSize);

  memory.mark_dirty_range(kGuestPageSize - 1, 2);  // straddles pages 0 and 1
  EXPECT_EQ(dirty_pages(memory), (std::vector<std::size_t>{0, 1}));

  memory.clear_dirty();
  memory.mark_dirty_range(3 * kGuestPageSize, kGuestPageSize);  // exactly page 3
  EXPECT_EQ(dirty_pages(memory), (std::vector<std::size_t>{3}));

  memory.clear_dirty();
  memory.mark_dirty_range(5 * kGuestPageSize, 0);
  EXPECT_EQ(memory.dirty_count(), 0u);

  memory.mark_dirty_range(60 * kGuestPageSize + 100, 10 * kGuestPageSize);  // crosses a word
  std::vector<std::size_t> expected;
  for (std::size_t page = 60; page <= 70; ++page) expected.push_back(page);
  EXPECT_EQ(dirty_pages(memory), expected);
}

TEST(DirtyTracking, IterationVisitsEachDirtyPageOnceInAscendingOrder) {
  MemFile memory = MemFile::create_anonymous(kPages * kGuestPageSize);
  const std::vector<std::size_t> marked = {200, 0, 64, 63, kPages - 1, 65, 200, 128};
  for (std::size_t page : marked) memory.mark_dirty(page * kGuestPageSize + 17);

  EXPECT_EQ(dirty_pages(memory), (std::vector<std::size_t>{0, 63, 64, 65, 128, 200, kPages - 1}));
  EXPECT_EQ(memory.dirty_count(), 7u);
}

TEST(DirtyTracking, ClearDirtyClearsEveryPage) {
  MemFile memory = MemFile::create_anonymous(kPages * kGuestPageSize);
  memory.mark_dirty_range(0, memory.size());
  EXPECT_EQ(memory.dirty_count(), kPages);

  memory.clear_dirty();
  EXPECT_EQ(memory.dirty_count(), 0u);
  for (std::size_t page = 0; page < kPages; ++page) EXPECT_FALSE(memory.is_page_dirty(page));
}

std::vector<std::size_t> take_written(MemFile& memory) {
  std::vector<std::size_t> pages;
  memory.take_written_pages([&](std::size_t page) { pages.push_back(page); });
  return pages;
}

// Write watching: the pages written since the watcher last looked, kept
// apart from the dirty bits (snapshots clear those, not these).
TEST(DirtyTracking, WrittenPagesAreTakenOnceAndSurviveSnapshots) {
  MemFile memory = MemFile::create_anonymous(kPages * kGuestPageSize);
  memory.mark_dirty(3 * kGuestPageSize);
  memory.mark_dirty_range(70 * kGuestPageSize - 1, 2);  // pages 69 and 70
  const MemorySnapshot snapshot = memory.snapshot_in_memory();
  EXPECT_EQ(memory.dirty_count(), 0u);
  EXPECT_EQ(take_written(memory), (std::vector<std::size_t>{3, 69, 70}));
  EXPECT_TRUE(take_written(memory).empty());  // taken
  memory.mark_dirty(5 * kGuestPageSize);
  memory.data()[5 * kGuestPageSize] = 1;
  // Restoring the baseline replaces the dirty pages: written, for a watcher.
  memory.restore_snapshot(snapshot);
  EXPECT_EQ(take_written(memory), (std::vector<std::size_t>{5}));
  // Restoring a snapshot that is not the baseline replaces every page: each
  // is written once, none beyond the last (the bitmap's last word is partial),
  // and the dirty bits stay clear.
  const MemorySnapshot other = memory.snapshot_in_memory();
  memory.restore_snapshot(snapshot);
  memory.restore_snapshot(other);
  const std::vector<std::size_t> all = take_written(memory);
  ASSERT_EQ(all.size(), memory.page_count());
  EXPECT_EQ(all.back(), memory.page_count() - 1);
  EXPECT_EQ(memory.dirty_count(), 0u);
}

}  // namespace
}  // namespace faultline
