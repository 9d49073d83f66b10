#pragma once

// A read-only image of guest RAM that a MemFile restores from: a snapshot file
// on disk, or an in-memory copy made by MemFile::snapshot_in_memory(). Either
// way it is an open file laid out as [header page][image], with the image
// mapped read-only, so restore can memcpy pages from it and COW mode can map it
// MAP_PRIVATE. See memfile.h for the design.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "memfile/posix_handles.h"

namespace faultline {

class MemorySnapshot {
 public:
  // Opens a full snapshot written by MemFile::write_snapshot(). Throws
  // std::runtime_error naming the file if it is missing, not a snapshot,
  // truncated, or a dirty-page snapshot.
  static MemorySnapshot open(const std::filesystem::path& file);

  // Opens a dirty-page snapshot written by MemFile::write_dirty_snapshot() and
  // applies it to `base` (which must be the snapshot it was written against),
  // giving an in-memory full snapshot with the dirty-page snapshot's id.
  static MemorySnapshot open_delta(const std::filesystem::path& delta_file,
                                   const MemorySnapshot& base);

  MemorySnapshot(MemorySnapshot&&) noexcept = default;
  MemorySnapshot& operator=(MemorySnapshot&&) noexcept = default;

  const std::uint8_t* data() const noexcept { return image_.bytes(); }
  std::size_t size() const noexcept { return image_.length(); }
  std::uint64_t id() const noexcept { return id_; }
  // The file path, or a description for in-memory snapshots; used in errors.
  const std::string& name() const noexcept { return name_; }
  // The file holding [header][image]; the image starts at image_offset().
  int fd() const noexcept { return fd_.get(); }
  static std::size_t image_offset() noexcept;

 private:
  friend class MemFile;
  // Validates the full snapshot in `fd` and maps its image.
  MemorySnapshot(UniqueFd fd, std::string name);

  UniqueFd fd_;
  Mapping image_;
  std::uint64_t id_ = 0;
  std::string name_;
};

}  // namespace faultline
