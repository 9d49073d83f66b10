#include "memfile/memory_snapshot.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <vector>

#include "memfile/snapshot_format.h"

namespace faultline {

namespace format = snapshot_format;

namespace {

UniqueFd open_for_reading(const std::filesystem::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) format::throw_snapshot_errno(file.string(), "cannot open");
  return fd;
}

}  // namespace

std::size_t MemorySnapshot::image_offset() noexcept { return format::kHeaderBytes; }

MemorySnapshot::MemorySnapshot(UniqueFd fd, std::string name)
    : fd_(std::move(fd)), name_(std::move(name)) {
  const format::Header header = format::read_valid_header(fd_.get(), name_);
  if (format::is_dirty_page_snapshot(header)) {
    format::throw_snapshot_error(
        name_, "is a dirty-page snapshot; open it with MemorySnapshot::open_delta and its base");
  }
  void* image = ::mmap(nullptr, header.memory_size, PROT_READ, MAP_SHARED, fd_.get(),
                       format::kHeaderBytes);
  if (image == MAP_FAILED) format::throw_snapshot_errno(name_, "cannot map image");
  image_ = Mapping(image, header.memory_size);
  id_ = header.snapshot_id;
}

MemorySnapshot MemorySnapshot::open(const std::filesystem::path& file) {
  return MemorySnapshot(open_for_reading(file), file.string());
}

MemorySnapshot MemorySnapshot::open_delta(const std::filesystem::path& delta_file,
                                          const MemorySnapshot& base) {
  const std::string name = delta_file.string();
  const UniqueFd delta_fd = open_for_reading(delta_file);
  const format::Header header = format::read_valid_header(delta_fd.get(), name);
  if (!format::is_dirty_page_snapshot(header)) {
    format::throw_snapshot_error(name, "is a full snapshot; open it with MemorySnapshot::open");
  }
  if (header.base_snapshot_id != base.id()) {
    format::throw_snapshot_error(name, "was written against a different base snapshot than '" +
                                           base.name() + "'");
  }
  if (header.memory_size != base.size()) {
    format::throw_snapshot_error(name, "holds " + std::to_string(header.memory_size) +
                                           " bytes of memory, its base '" + base.name() +
                                           "' holds " + std::to_string(base.size()));
  }

  const std::size_t file_size = format::expected_file_size(header);
  void* file_bytes = ::mmap(nullptr, file_size, PROT_READ, MAP_SHARED, delta_fd.get(), 0);
  if (file_bytes == MAP_FAILED) format::throw_snapshot_errno(name, "cannot map");
  const Mapping delta(file_bytes, file_size);

  std::vector<std::uint64_t> dirty_words(format::bitmap_words(header.memory_size));
  std::memcpy(dirty_words.data(), delta.bytes() + format::kHeaderBytes,
              dirty_words.size() * sizeof(std::uint64_t));
  const std::size_t page_count = header.memory_size / kGuestPageSize;
  std::uint64_t marked_pages = 0;
  for (std::uint64_t word : dirty_words) marked_pages += std::popcount(word);
  const std::size_t bits_in_last_word = page_count % 64;
  const bool stray_bits = bits_in_last_word != 0 && (dirty_words.back() >> bits_in_last_word) != 0;
  if (marked_pages != header.dirty_page_count || stray_bits) {
    format::throw_snapshot_error(name, "corrupt page bitmap: it does not match the header's " +
                                           std::to_string(header.dirty_page_count) +
                                           " dirty pages");
  }

  UniqueFd merged(::memfd_create("faultline-memory-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!merged.valid()) format::throw_snapshot_errno(name, "cannot create in-memory copy");
  if (::ftruncate(merged.get(), format::kHeaderBytes + header.memory_size) != 0) {
    format::throw_snapshot_errno(name, "cannot size in-memory copy");
  }
  const format::Header merged_header = format::make_header(header.memory_size, header.snapshot_id);
  format::write_all(merged.get(), &merged_header, sizeof merged_header, 0, name);
  format::write_nonzero_pages(merged.get(), base.data(), base.size(), format::kHeaderBytes, name);

  const std::uint8_t* next_delta_page =
      delta.bytes() + format::kHeaderBytes + format::bitmap_region_bytes(header.memory_size);
  for (std::size_t word_index = 0; word_index < dirty_words.size(); ++word_index) {
    for (std::uint64_t bits = dirty_words[word_index]; bits != 0; bits &= bits - 1) {
      const std::size_t page = word_index * 64 + std::countr_zero(bits);
      // Written even when all zero: it has to overwrite the base's page.
      format::write_all(merged.get(), next_delta_page, kGuestPageSize,
                        format::kHeaderBytes + page * kGuestPageSize, name);
      next_delta_page += kGuestPageSize;
    }
  }
  // Sealed so nothing can change a snapshot that restores copy from.
  ::fcntl(merged.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return MemorySnapshot(std::move(merged), name + " (applied to '" + base.name() + "')");
}

}  // namespace faultline
