#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "memfile/memfile.h"
#include "tests/memfile/test_support.h"

namespace faultline {
namespace {

using testing::ScratchDir;
using testing::contents;
using testing::fill_random;
using testing::read_file;
using testing::write_byte;
using testing::write_file;

constexpr std::size_t kPages = 64;
constexpr std::size_t kSize = kPages * kGuestPageSize;
constexpr std::size_t kHeaderBytes = kGuestPageSize;

TEST(Snapshot, InMemorySnapshotRestoresRandomContents) {
  MemFile memory = MemFile::create_anonymous(kSize);
  fill_random(memory, 1);
  const auto expected = contents(memory);
  const MemorySnapshot snapshot = memory.snapshot_in_memory();

  fill_random(memory, 2);
  ASSERT_NE(contents(memory), expected);
  memory.restore_snapshot(snapshot);

  EXPECT_EQ(contents(memory), expected);
}

TEST(Snapshot, FileSnapshotRestoresRandomContents) {
  ScratchDir dir;
  const auto file = dir.file("mem.snap");
  MemFile memory = MemFile::create_anonymous(kSize);
  fill_random(memory, 3);
  const auto expected = contents(memory);
  memory.write_snapshot(file);
  EXPECT_EQ(std::filesystem::file_size(file), kHeaderBytes + kSize);

  fill_random(memory, 4);
  memory.restore_snapshot(MemorySnapshot::open(file));

  EXPECT_EQ(contents(memory), expected);
}

TEST(Snapshot, SnapshotRestoresIntoAnotherMemFile) {
  ScratchDir dir;
  MemFile source = MemFile::create_anonymous(kSize);
  fill_random(source, 5);
  source.write_snapshot(dir.file("mem.snap"));

  MemFile target = MemFile::create_at_path(dir.file("guest.ram"), kSize);
  target.restore_snapshot(MemorySnapshot::open(dir.file("mem.snap")));

  EXPECT_EQ(contents(target), contents(source));
  EXPECT_EQ(target.last_restore_pages(), kPages);  // not its baseline: every page
}

TEST(Snapshot, RestoreCopiesExactlyTheDirtyPages) {
  MemFile memory = MemFile::create_anonymous(kSize);
  fill_random(memory, 6);
  const auto expected = contents(memory);
  const MemorySnapshot snapshot = memory.snapshot_in_memory();
  EXPECT_EQ(memory.dirty_count(), 0u);

  const std::vector<std::size_t> dirtied = {0, 1, 17, 63};
  for (std::size_t page : dirtied) write_byte(memory, page * kGuestPageSize + 9, 0xEE);
  // Changed behind the tracker's back: a restore that copied more than the
  // dirty pages would undo this too.
  memory.data()[30 * kGuestPageSize] ^= 0xFF;

  memory.restore_snapshot(snapshot);

  EXPECT_EQ(memory.last_restore_pages(), dirtied.size());
  EXPECT_EQ(memory.dirty_count(), 0u);
  auto expected_with_untracked_write = expected;
  expected_with_untracked_write[30 * kGuestPageSize] ^= 0xFF;
  EXPECT_EQ(contents(memory), expected_with_untracked_write);

  memory.restore_snapshot(snapshot);
  EXPECT_EQ(memory.last_restore_pages(), 0u);
}

TEST(Snapshot, ReopenedSnapshotFileIsStillTheBaseline) {
  ScratchDir dir;
  MemFile memory = MemFile::create_anonymous(kSize);
  fill_random(memory, 7);
  const auto expected = contents(memory);
  memory.write_snapshot(dir.file("mem.snap"));

  write_byte(memory, 2 * kGuestPageSize, 1);
  write_byte(memory, 40 * kGuestPageSize, 1);
  memory.restore_snapshot(MemorySnapshot::open(dir.file("mem.snap")));

  EXPECT_EQ(memory.last_restore_pages(), 2u);
  EXPECT_EQ(contents(memory), expected);
}

TEST(Snapshot, RestoringAnotherSnapshotCopiesEveryPageThenBecomesTheBaseline) {
  MemFile memory = MemFile::create_anonymous(kSize);
  fill_random(memory, 8);
  const auto contents_a = contents(memory);
  const MemorySnapshot snapshot_a = memory.snapshot_in_memory();
  fill_random(memory, 9, 10, 3);
  const MemorySnapshot snapshot_b = memory.snapshot_in_memory();

  memory.restore_snapshot(snapshot_a);
  EXPECT_EQ(memory.last_restore_pages(), kPages);
  EXPECT_EQ(contents(memory), contents_a);

  write_byte(memory, 5 * kGuestPageSize, 0x42);
  memory.restore_snapshot(snapshot_a);
  EXPECT_EQ(memory.last_restore_pages(), 1u);
  EXPECT_EQ(contents(memory), contents_a);
}

TEST(Snapshot, ClearDirtyForgetsTheBaseline) {
  MemFile memory = MemFile::create_anonymous(kSize);
  fill_random(memory, 10);
  const auto expected = contents(memory);
  const MemorySnapshot snapshot = memory.snapshot_in_memory();

  write_byte(memory, 3 * kGuestPageSize, 0x42);
  memory.clear_dirty();
  memory.restore_snapshot(snapshot);

  EXPECT_EQ(memory.last_restore_pages(), kPages);
  EXPECT_EQ(contents(memory), expected);
}

TEST(Snapshot, ZeroPagesAreHolesInTheSnapshotFile) {
  ScratchDir dir;
  // Skip where the file system cannot make holes at all.
  {
    const auto probe_file = dir.file("probe");
    const int probe = ::open(probe_file.c_str(), O_RDWR | O_CREAT, 0600);
    ASSERT_GE(probe, 0);
    ASSERT_EQ(::ftruncate(probe, 1 << 20), 0);
    struct stat status{};
    ASSERT_EQ(::fstat(probe, &status), 0);
    ::close(probe);
    if (status.st_blocks != 0) GTEST_SKIP() << "file system does not support holes";
  }
  MemFile memory = MemFile::create_anonymous(256 * kGuestPageSize);
  fill_random(memory, 11, 100, 1);
  const auto expected = contents(memory);
  memory.write_snapshot(dir.file("mem.snap"));

  struct stat status{};
  ASSERT_EQ(::stat(dir.file("mem.snap").c_str(), &status), 0);
  EXPECT_EQ(static_cast<std::size_t>(status.st_size), kHeaderBytes + memory.size());
  EXPECT_LT(static_cast<std::size_t>(status.st_blocks) * 512, 16 * kGuestPageSize);

  fill_random(memory, 12);
  memory.restore_snapshot(MemorySnapshot::open(dir.file("mem.snap")));
  EXPECT_EQ(contents(memory), expected);
}

TEST(Snapshot, WriteReplacesAnExistingFileAndLeavesNoTemporaryFiles) {
  ScratchDir dir;
  const auto file = dir.file("mem.snap");
  write_file(file, std::vector<std::uint8_t>(100, 0xAB));
  MemFile memory = MemFile::create_anonymous(kSize);
  fill_random(memory, 13);

  memory.write_snapshot(file);

  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"mem.snap"});
  EXPECT_EQ(std::filesystem::file_size(file), kHeaderBytes + kSize);
}

// --- Rejected snapshot files: every error names the file. ---

class BadSnapshotFile : public ::testing::Test {
 protected:
  void SetUp() override {
    MemFile memory = MemFile::create_anonymous(kSize);
    fill_random(memory, 14);
    memory.write_snapshot(file_);
    good_bytes_ = read_file(file_);
  }

  // Expects opening file_ to fail with a message naming it and saying `problem`.
  void expect_rejected(const std::string& problem) {
    try {
      MemorySnapshot::open(file_);
      ADD_FAILURE() << "opened a bad snapshot";
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("'" + file_.string() + "'"), std::string::npos) << message;
      EXPECT_NE(message.find(problem), std::string::npos) << message;
    }
  }

  ScratchDir dir_;
  std::filesystem::path file_ = dir_.file("mem.snap");
  std::vector<std::uint8_t> good_bytes_;
};

TEST_F(BadSnapshotFile, MissingFile) {
  std::filesystem::remove(file_);
  expect_rejected("cannot open");
}

TEST_F(BadSnapshotFile, WrongMagic) {
  auto bytes = good_bytes_;
  bytes[0] = 'X';
  write_file(file_, bytes);
  expect_rejected("not a faultline memory snapshot");
}

TEST_F(BadSnapshotFile, NotASnapshotAtAll) {
  const std::string text = "#!/bin/sh\necho this is a shell script, not guest memory\n";
  write_file(file_, std::vector<std::uint8_t>(text.begin(), text.end()));
  expect_rejected("not a faultline memory snapshot");
}

TEST_F(BadSnapshotFile, EmptyFile) {
  write_file(file_, {});
  expect_rejected("truncated");
}

TEST_F(BadSnapshotFile, TruncatedImage) {
  auto bytes = good_bytes_;
  bytes.resize(bytes.size() - kGuestPageSize);
  write_file(file_, bytes);
  expect_rejected("truncated");
}

TEST_F(BadSnapshotFile, TrailingBytes) {
  auto bytes = good_bytes_;
  bytes.push_back(0);
  write_file(file_, bytes);
  expect_rejected("wrong size");
}

TEST_F(BadSnapshotFile, UnsupportedVersion) {
  auto bytes = good_bytes_;
  bytes[8] = 99;  // version follows the 8-byte magic
  write_file(file_, bytes);
  expect_rejected("unsupported snapshot version 99");
}

TEST_F(BadSnapshotFile, WrongPageSize) {
  auto bytes = good_bytes_;
  bytes[13] ^= 0x20;  // page size follows the version: 4096 becomes 12288
  write_file(file_, bytes);
  expect_rejected("page size");
}

TEST_F(BadSnapshotFile, MemorySizeDifferentFromTheGuest) {
  MemFile bigger = MemFile::create_anonymous(2 * kSize);
  const MemorySnapshot snapshot = MemorySnapshot::open(file_);
  try {
    bigger.restore_snapshot(snapshot);
    ADD_FAILURE() << "restored a snapshot of the wrong size";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(file_.string()), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(kSize)), std::string::npos) << message;
  }
  EXPECT_THROW(bigger.map_snapshot_cow(file_), std::runtime_error);
}

TEST_F(BadSnapshotFile, DirtyPageSnapshotOpenedAsAFullOne) {
  MemFile memory = MemFile::create_anonymous(kSize);
  const MemorySnapshot base = memory.snapshot_in_memory();
  write_byte(memory, 0, 1);
  memory.write_dirty_snapshot(file_, base);
  expect_rejected("dirty-page snapshot");
}

}  // namespace
}  // namespace faultline
