#pragma once

// On-disk layout of memory snapshot files, and the file helpers that
// memfile.cpp and memory_snapshot.cpp share. Internal to memfile/.
//
// Full snapshot:        [header page][memory image, memory_size bytes]
// Dirty-page snapshot:  [header page][page bitmap, padded to whole pages]
//                       [the pages whose bit is set, packed in ascending order]
//
// The image starts on a page boundary so a full snapshot can be mmap'd
// straight over guest RAM. All-zero pages are left as holes. Fields are in
// host byte order; faultline hosts are x86-64.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "memfile/guest_page.h"

namespace faultline::snapshot_format {

inline constexpr char kMagic[8] = {'F', 'L', 'M', 'E', 'M', 'S', 'N', 'P'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = kGuestPageSize;
// Far beyond any i686 guest; bounds the size arithmetic on untrusted headers.
inline constexpr std::uint64_t kMaxMemorySize = std::uint64_t{1} << 40;

struct Header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t page_size;
  std::uint64_t memory_size;
  // Random, never 0. Lets a MemFile recognise the snapshot its dirty bits are
  // relative to, even across reopening the file.
  std::uint64_t snapshot_id;
  // 0 for a full snapshot; otherwise the id of the snapshot this one's dirty
  // pages apply to.
  std::uint64_t base_snapshot_id;
  std::uint64_t dirty_page_count;  // dirty-page snapshots only
};

Header make_header(std::uint64_t memory_size, std::uint64_t snapshot_id,
                   std::uint64_t base_snapshot_id = 0, std::uint64_t dirty_page_count = 0);
bool is_dirty_page_snapshot(const Header& header);

std::size_t bitmap_words(std::uint64_t memory_size);
std::uint64_t bitmap_region_bytes(std::uint64_t memory_size);
std::uint64_t expected_file_size(const Header& header);

std::uint64_t new_snapshot_id();

// Errors name the file: "memory snapshot '<file>': <problem>".
[[noreturn]] void throw_snapshot_error(std::string_view file, std::string_view problem);
// As above, appending strerror(errno).
[[noreturn]] void throw_snapshot_errno(std::string_view file, std::string_view action);

// Reads and checks the header (magic, version, page size, memory size, id) and
// that the file is exactly as long as the header says.
Header read_valid_header(int fd, std::string_view file);

void write_all(int fd, const void* bytes, std::size_t length, off_t offset, std::string_view file);
// Writes `length` bytes of image at `offset`, leaving all-zero pages as holes:
// the file must already be truncated to its full size (and zero there).
void write_nonzero_pages(int fd, const std::uint8_t* image, std::size_t length, off_t offset,
                         std::string_view file);

}  // namespace faultline::snapshot_format
