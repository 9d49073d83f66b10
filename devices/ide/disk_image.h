// A disk image: a raw image file seen as 512-byte sectors.
//
// Design note: fault campaigns run thousands of experiments from one golden
// image, so by default the image file is never written. Writes land in a
// copy-on-write overlay: an in-memory sector map (the default) or a sparse
// overlay file the size of the image. The overlay file is scratch space: it
// is truncated when the image opens, and which sectors it holds is tracked in
// memory (a sparse file's holes are 4 KiB blocks, too coarse for sectors).
// Only `WritableBase` writes through to the image itself. Opening problems
// (missing, unreadable, empty, size not a multiple of 512) throw
// std::runtime_error naming the file; I/O during guest execution returns a
// status the controller turns into an ATA error, never an exception.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace faultline {

enum class DiskMode : uint8_t {
  ReadOnly,       // guest writes fail (the controller aborts them)
  OverlayMemory,  // writes go to an in-memory sector map
  OverlayFile,    // writes go to a sparse overlay file (overlay_path)
  WritableBase,   // writes modify the image file itself
};

struct DiskImageConfig {
  DiskImageConfig() = default;
  explicit DiskImageConfig(std::string image_path, DiskMode image_mode = DiskMode::OverlayMemory,
                           std::string overlay = {})
      : path(std::move(image_path)), mode(image_mode), overlay_path(std::move(overlay)) {}
  std::string path;
  DiskMode mode = DiskMode::OverlayMemory;
  std::string overlay_path;  // OverlayFile only
};

enum class DiskIo : uint8_t { Ok, ReadOnly, HostError };

// The guest's writes so far (OverlayMemory mode), for machine checkpoints.
struct DiskOverlaySnapshot {
  std::unordered_map<uint64_t, std::array<uint8_t, 512>> sectors;
};

class DiskImage {
 public:
  static constexpr uint32_t kSectorSize = 512;

  explicit DiskImage(const DiskImageConfig& config);
  ~DiskImage();
  DiskImage(const DiskImage&) = delete;
  DiskImage& operator=(const DiskImage&) = delete;

  const std::string& path() const { return config_.path; }
  DiskMode mode() const { return config_.mode; }
  uint64_t sector_count() const { return sectors_; }

  // `data.size()` must be a multiple of 512 and the range inside the image
  // (the controller checks the range first; violations return HostError).
  DiskIo read(uint64_t lba, std::span<uint8_t> data) const;
  DiskIo write(uint64_t lba, std::span<const uint8_t> data);
  DiskIo flush();

  // Sectors currently redirected to the overlay.
  size_t overlay_sector_count() const;

  // Checkpoints of the guest's writes. Only OverlayMemory images can take
  // them (ReadOnly ones trivially); OverlayFile and WritableBase throw
  // std::logic_error naming the file rather than pretend.
  DiskOverlaySnapshot snapshot_overlay() const;
  void restore_overlay(const DiskOverlaySnapshot& snapshot);

 private:
  bool in_range(uint64_t lba, size_t bytes) const;
  DiskIo read_base(uint64_t lba, uint8_t* dst, uint64_t count) const;

  DiskImageConfig config_;
  int base_fd_ = -1;
  int overlay_fd_ = -1;
  uint64_t sectors_ = 0;
  std::unordered_map<uint64_t, std::array<uint8_t, kSectorSize>> memory_overlay_;
  std::unordered_set<uint64_t> file_overlay_;  // sectors present in overlay_fd_
};

}  // namespace faultline
