#include "memfile/memfile.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "tests/memfile/test_support.h"

namespace faultline {
namespace {

using testing::ScratchDir;
using testing::contents;
using testing::read_file;
using testing::write_file;

constexpr std::size_t kSize = 16 * kGuestPageSize;

TEST(MemFile, AnonymousMemFileIsAZeroedMemfdOfTheRequestedSize) {
  MemFile memory = MemFile::create_anonymous(kSize);

  EXPECT_EQ(memory.size(), kSize);
  EXPECT_EQ(memory.page_count(), 16u);
  EXPECT_TRUE(memory.backing_file().empty());
  ASSERT_GE(memory.fd(), 0);
  struct stat status{};
  ASSERT_EQ(::fstat(memory.fd(), &status), 0);
  EXPECT_EQ(static_cast<std::size_t>(status.st_size), kSize);

  const std::string fd_link = std::filesystem::read_symlink(
      "/proc/self/fd/" + std::to_string(memory.fd())).string();
  EXPECT_EQ(fd_link.rfind("/memfd:", 0), 0u) << fd_link;

  const auto bytes = contents(memory);
  EXPECT_TRUE(std::all_of(bytes.begin(), bytes.end(), [](auto byte) { return byte == 0; }));
}

TEST(MemFile, PathBackedMemFileWritesThroughToTheFile) {
  ScratchDir dir;
  const auto file = dir.file("guest.ram");
  // An existing, longer file with other contents must be truncated and zeroed.
  write_file(file, std::vector<std::uint8_t>(3 * kSize, 0xAA));

  MemFile memory = MemFile::create_at_path(file, kSize);
  EXPECT_EQ(memory.backing_file(), file);
  memory.data()[0] = 0x11;
  memory.data()[5 * kGuestPageSize + 7] = 0x22;
  memory.data()[kSize - 1] = 0x33;

  // A plain read of the file, no msync: MAP_SHARED writes land in the file.
  const auto on_disk = read_file(file);
  ASSERT_EQ(on_disk.size(), kSize);
  EXPECT_EQ(on_disk, contents(memory));
  EXPECT_EQ(on_disk[5 * kGuestPageSize + 7], 0x22);
  EXPECT_EQ(on_disk[kGuestPageSize], 0x00);
}

TEST(MemFile, SecondMappingOfFdSharesWritesBothWays) {
  MemFile memory = MemFile::create_anonymous(kSize);
  void* mapped = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, memory.fd(), 0);
  ASSERT_NE(mapped, MAP_FAILED);
  auto* other_view = static_cast<std::uint8_t*>(mapped);
  ASSERT_NE(other_view, memory.data());

  memory.data()[3 * kGuestPageSize + 1] = 0x5A;
  EXPECT_EQ(other_view[3 * kGuestPageSize + 1], 0x5A);
  other_view[kSize - 2] = 0xC3;
  EXPECT_EQ(memory.data()[kSize - 2], 0xC3);

  ::munmap(mapped, kSize);
}

TEST(MemFile, SizeThatIsNotAWholeNumberOfPagesIsRejected) {
  ScratchDir dir;
  for (std::size_t bad_size : {std::size_t{0}, std::size_t{1}, kGuestPageSize - 1,
                               kGuestPageSize + 1, kSize + 512}) {
    EXPECT_THROW(MemFile::create_anonymous(bad_size), std::invalid_argument) << bad_size;
    EXPECT_THROW(MemFile::create_at_path(dir.file("bad.ram"), bad_size), std::invalid_argument)
        << bad_size;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.ram")));
}

TEST(MemFile, UncreatableFileIsReportedByName) {
  ScratchDir dir;
  const auto file = dir.file("no/such/dir/guest.ram");
  try {
    MemFile::create_at_path(file, kSize);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(file.string()), std::string::npos) << error.what();
  }
}

TEST(MemFile, MoveKeepsTheMappingAndTheFd) {
  MemFile original = MemFile::create_anonymous(kSize);
  original.data()[42] = 7;
  std::uint8_t* const address = original.data();
  const int fd = original.fd();

  MemFile moved = std::move(original);
  EXPECT_EQ(moved.data(), address);
  EXPECT_EQ(moved.fd(), fd);
  EXPECT_EQ(moved.data()[42], 7);
}

}  // namespace
}  // namespace faultline
