// Raw disk images with a copy-on-write overlay.
#include "devices/ide/disk_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace faultline {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("disk image '" + path + "': " + what);
}

std::string errno_text() { return std::strerror(errno); }

bool pread_all(int fd, uint8_t* dst, size_t len, uint64_t offset) {
  while (len) {
    ssize_t n = ::pread(fd, dst, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    dst += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

bool pwrite_all(int fd, const uint8_t* src, size_t len, uint64_t offset) {
  while (len) {
    ssize_t n = ::pwrite(fd, src, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    src += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

DiskImage::DiskImage(const DiskImageConfig& config) : config_(config) {
  const std::string& path = config_.path;
  if (path.empty()) throw std::runtime_error("disk image: no path given");
  int flags = (config_.mode == DiskMode::WritableBase ? O_RDWR : O_RDONLY) | O_CLOEXEC;
  base_fd_ = ::open(path.c_str(), flags);
  if (base_fd_ < 0) fail(path, "cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(base_fd_, &st) != 0) {
    std::string why = errno_text();
    ::close(base_fd_);
    fail(path, "cannot stat: " + why);
  }
  uint64_t bytes = 0;
  if (S_ISREG(st.st_mode)) {
    bytes = static_cast<uint64_t>(st.st_size);
  } else if (S_ISBLK(st.st_mode)) {
    off_t end = ::lseek(base_fd_, 0, SEEK_END);
    bytes = end < 0 ? 0 : static_cast<uint64_t>(end);
  } else {
    ::close(base_fd_);
    fail(path, "not a regular file or block device");
  }
  if (bytes == 0 || bytes % kSectorSize != 0) {
    ::close(base_fd_);
    fail(path, "size " + std::to_string(bytes) + " bytes is " + (bytes ? "not a multiple of 512" : "empty"));
  }
  sectors_ = bytes / kSectorSize;
  // Probe one sector so an unreadable file (a directory, EIO) fails now.
  std::array<uint8_t, kSectorSize> probe{};
  if (!pread_all(base_fd_, probe.data(), probe.size(), 0)) {
    std::string why = errno_text();
    ::close(base_fd_);
    fail(path, "cannot read: " + why);
  }
  if (config_.mode == DiskMode::OverlayFile) {
    const std::string& overlay = config_.overlay_path;
    if (overlay.empty()) {
      ::close(base_fd_);
      fail(path, "overlay file mode needs an overlay path");
    }
    overlay_fd_ = ::open(overlay.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (overlay_fd_ < 0 || ::ftruncate(overlay_fd_, static_cast<off_t>(bytes)) != 0) {
      std::string why = errno_text();
      if (overlay_fd_ >= 0) ::close(overlay_fd_);
      ::close(base_fd_);
      fail(path, "cannot create overlay '" + overlay + "': " + why);
    }
  }
}

DiskImage::~DiskImage() {
  if (overlay_fd_ >= 0) ::close(overlay_fd_);
  if (base_fd_ >= 0) ::close(base_fd_);
}

bool DiskImage::in_range(uint64_t lba, size_t bytes) const {
  if (bytes % kSectorSize) return false;
  uint64_t count = bytes / kSectorSize;
  return lba <= sectors_ && count <= sectors_ - lba;
}

size_t DiskImage::overlay_sector_count() const { return memory_overlay_.size() + file_overlay_.size(); }

DiskIo DiskImage::read_base(uint64_t lba, uint8_t* dst, uint64_t count) const {
  if (count == 0) return DiskIo::Ok;
  return pread_all(base_fd_, dst, count * kSectorSize, lba * kSectorSize) ? DiskIo::Ok : DiskIo::HostError;
}

DiskIo DiskImage::read(uint64_t lba, std::span<uint8_t> data) const {
  if (!in_range(lba, data.size())) return DiskIo::HostError;
  uint64_t count = data.size() / kSectorSize;
  if (overlay_sector_count() == 0) return read_base(lba, data.data(), count);
  // Coalesce runs of sectors that come from the base image.
  uint64_t run_start = 0;
  for (uint64_t i = 0; i <= count; ++i) {
    bool overlaid = false;
    if (i < count) {
      uint64_t sector = lba + i;
      uint8_t* dst = data.data() + i * kSectorSize;
      if (auto it = memory_overlay_.find(sector); it != memory_overlay_.end()) {
        std::memcpy(dst, it->second.data(), kSectorSize);
        overlaid = true;
      } else if (file_overlay_.count(sector)) {
        if (!pread_all(overlay_fd_, dst, kSectorSize, sector * kSectorSize)) return DiskIo::HostError;
        overlaid = true;
      }
    }
    if (overlaid || i == count) {
      DiskIo r = read_base(lba + run_start, data.data() + run_start * kSectorSize, i - run_start);
      if (r != DiskIo::Ok) return r;
      run_start = i + 1;
    }
  }
  return DiskIo::Ok;
}

DiskIo DiskImage::write(uint64_t lba, std::span<const uint8_t> data) {
  if (!in_range(lba, data.size())) return DiskIo::HostError;
  uint64_t count = data.size() / kSectorSize;
  switch (config_.mode) {
    case DiskMode::ReadOnly:
      return DiskIo::ReadOnly;
    case DiskMode::WritableBase:
      return pwrite_all(base_fd_, data.data(), data.size(), lba * kSectorSize) ? DiskIo::Ok : DiskIo::HostError;
    case DiskMode::OverlayFile:
      if (!pwrite_all(overlay_fd_, data.data(), data.size(), lba * kSectorSize)) return DiskIo::HostError;
      for (uint64_t i = 0; i < count; ++i) file_overlay_.insert(lba + i);
      return DiskIo::Ok;
    case DiskMode::OverlayMemory:
      for (uint64_t i = 0; i < count; ++i)
        std::memcpy(memory_overlay_[lba + i].data(), data.data() + i * kSectorSize, kSectorSize);
      return DiskIo::Ok;
  }
  return DiskIo::HostError;
}

DiskOverlaySnapshot DiskImage::snapshot_overlay() const {
  if (config_.mode == DiskMode::OverlayFile || config_.mode == DiskMode::WritableBase)
    throw std::logic_error("disk image '" + config_.path + "': overlay snapshots need the in-memory overlay mode");
  return DiskOverlaySnapshot{memory_overlay_};
}

void DiskImage::restore_overlay(const DiskOverlaySnapshot& snapshot) {
  if (config_.mode == DiskMode::OverlayFile || config_.mode == DiskMode::WritableBase)
    throw std::logic_error("disk image '" + config_.path + "': overlay snapshots need the in-memory overlay mode");
  if (config_.mode == DiskMode::ReadOnly && !snapshot.sectors.empty())
    throw std::logic_error("disk image '" + config_.path + "': cannot restore writes into a read-only image");
  for (const auto& [lba, data] : snapshot.sectors)
    if (lba >= sectors_)
      throw std::logic_error("disk image '" + config_.path + "': snapshot holds sector " + std::to_string(lba) +
                             " beyond the image");
  memory_overlay_ = snapshot.sectors;
}

DiskIo DiskImage::flush() {
  int fd = config_.mode == DiskMode::WritableBase ? base_fd_ : config_.mode == DiskMode::OverlayFile ? overlay_fd_ : -1;
  if (fd >= 0 && ::fdatasync(fd) != 0) return DiskIo::HostError;
  return DiskIo::Ok;
}

}  // namespace faultline
