#include "memfile/snapshot_format.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

namespace faultline::snapshot_format {

static_assert(sizeof(Header) <= kHeaderBytes);

Header make_header(std::uint64_t memory_size, std::uint64_t snapshot_id,
                   std::uint64_t base_snapshot_id, std::uint64_t dirty_page_count) {
  Header header{};
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.version = kVersion;
  header.page_size = kGuestPageSize;
  header.memory_size = memory_size;
  header.snapshot_id = snapshot_id;
  header.base_snapshot_id = base_snapshot_id;
  header.dirty_page_count = dirty_page_count;
  return header;
}

bool is_dirty_page_snapshot(const Header& header) { return header.base_snapshot_id != 0; }

std::size_t bitmap_words(std::uint64_t memory_size) {
  const std::uint64_t pages = memory_size / kGuestPageSize;
  return static_cast<std::size_t>((pages + 63) / 64);
}

std::uint64_t bitmap_region_bytes(std::uint64_t memory_size) {
  const std::uint64_t bytes = bitmap_words(memory_size) * sizeof(std::uint64_t);
  return (bytes + kGuestPageSize - 1) / kGuestPageSize * kGuestPageSize;
}

std::uint64_t expected_file_size(const Header& header) {
  if (!is_dirty_page_snapshot(header)) return kHeaderBytes + header.memory_size;
  return kHeaderBytes + bitmap_region_bytes(header.memory_size) +
         header.dirty_page_count * kGuestPageSize;
}

std::uint64_t new_snapshot_id() {
  std::random_device entropy;
  std::uint64_t id = 0;
  while (id == 0) id = (std::uint64_t{entropy()} << 32) | entropy();
  return id;
}

void throw_snapshot_error(std::string_view file, std::string_view problem) {
  throw std::runtime_error("memory snapshot '" + std::string(file) + "': " + std::string(problem));
}

void throw_snapshot_errno(std::string_view file, std::string_view action) {
  const int error = errno;
  throw_snapshot_error(file, std::string(action) + ": " + std::strerror(error));
}

Header read_valid_header(int fd, std::string_view file) {
  Header header{};
  const ssize_t got = ::pread(fd, &header, sizeof header, 0);
  if (got < 0) throw_snapshot_errno(file, "cannot read header");
  if (static_cast<std::size_t>(got) < sizeof header) {
    throw_snapshot_error(file, "truncated: " + std::to_string(got) +
                                   " bytes is too short for a snapshot header");
  }
  if (std::memcmp(header.magic, kMagic, sizeof kMagic) != 0) {
    throw_snapshot_error(file, "not a faultline memory snapshot (magic is not FLMEMSNP)");
  }
  if (header.version != kVersion) {
    throw_snapshot_error(file, "unsupported snapshot version " + std::to_string(header.version) +
                                   " (this build reads version " + std::to_string(kVersion) + ")");
  }
  if (header.page_size != kGuestPageSize) {
    throw_snapshot_error(file, "page size " + std::to_string(header.page_size) + " is not " +
                                   std::to_string(kGuestPageSize));
  }
  if (header.memory_size == 0 || header.memory_size % kGuestPageSize != 0 ||
      header.memory_size > kMaxMemorySize) {
    throw_snapshot_error(file, "invalid memory size " + std::to_string(header.memory_size));
  }
  if (header.snapshot_id == 0) throw_snapshot_error(file, "invalid snapshot id 0");
  if (header.dirty_page_count > header.memory_size / kGuestPageSize) {
    throw_snapshot_error(file, "dirty page count " + std::to_string(header.dirty_page_count) +
                                   " exceeds the memory size");
  }

  struct stat status{};
  if (::fstat(fd, &status) != 0) throw_snapshot_errno(file, "cannot stat");
  const std::uint64_t expected = expected_file_size(header);
  const auto actual = static_cast<std::uint64_t>(status.st_size);
  if (actual < expected) {
    throw_snapshot_error(file, "truncated: header promises " + std::to_string(expected) +
                                   " bytes, file has " + std::to_string(actual));
  }
  if (actual > expected) {
    throw_snapshot_error(file, "wrong size: header promises " + std::to_string(expected) +
                                   " bytes, file has " + std::to_string(actual));
  }
  return header;
}

void write_all(int fd, const void* bytes, std::size_t length, off_t offset, std::string_view file) {
  const auto* next = static_cast<const std::uint8_t*>(bytes);
  while (length > 0) {
    const ssize_t written = ::pwrite(fd, next, length, offset);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_snapshot_errno(file, "cannot write");
    }
    next += written;
    length -= static_cast<std::size_t>(written);
    offset += written;
  }
}

namespace {

bool is_zero_page(const std::uint8_t* page) {
  std::uint64_t any_bits = 0;
  for (std::size_t i = 0; i < kGuestPageSize; i += sizeof(std::uint64_t)) {
    std::uint64_t word;
    std::memcpy(&word, page + i, sizeof word);
    any_bits |= word;
  }
  return any_bits == 0;
}

}  // namespace

void write_nonzero_pages(int fd, const std::uint8_t* image, std::size_t length, off_t offset,
                         std::string_view file) {
  // One pwrite per run of non-zero pages keeps the syscall count low for
  // mostly-populated images.
  std::size_t run_start = 0;
  std::size_t run_length = 0;
  for (std::size_t page = 0; page < length; page += kGuestPageSize) {
    if (is_zero_page(image + page)) {
      if (run_length > 0) write_all(fd, image + run_start, run_length, offset + run_start, file);
      run_length = 0;
      continue;
    }
    if (run_length == 0) run_start = page;
    run_length += kGuestPageSize;
  }
  if (run_length > 0) write_all(fd, image + run_start, run_length, offset + run_start, file);
}

}  // namespace faultline::snapshot_format
