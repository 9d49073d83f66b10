#include "memfile/memfile.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "memfile/snapshot_format.h"

namespace faultline {

namespace format = snapshot_format;

namespace {

std::string describe_backing(const std::filesystem::path& backing_file) {
  return backing_file.empty() ? std::string("memfd") : backing_file.string();
}

[[noreturn]] void throw_memory_file_errno(const std::filesystem::path& backing_file,
                                          std::string_view action) {
  const int error = errno;
  throw std::runtime_error("guest memory file '" + describe_backing(backing_file) + "': " +
                           std::string(action) + ": " + std::strerror(error));
}

// A failed MAP_FIXED may already have unmapped guest RAM, whose address the
// TLBs and the JIT window hold; there is no state to go on from.
[[noreturn]] void abort_guest_ram_lost(const char* while_doing, int error) {
  std::fprintf(stderr, "faultline: guest RAM mapping lost while %s: %s\n", while_doing,
               std::strerror(error));
  std::abort();
}

void check_guest_size(std::size_t size_bytes) {
  if (size_bytes == 0 || size_bytes % kGuestPageSize != 0) {
    throw std::invalid_argument("guest memory size " + std::to_string(size_bytes) +
                                " is not a non-zero multiple of the " +
                                std::to_string(kGuestPageSize) + "-byte page size");
  }
}

// A snapshot is written under a temporary name and renamed into place, so a
// reader never sees half a snapshot and a failed write leaves no debris.
class TemporarySnapshotFile {
 public:
  explicit TemporarySnapshotFile(const std::filesystem::path& final_file)
      : final_file_(final_file), name_(final_file.string()) {
    std::string pattern = name_ + ".tmp-XXXXXX";
    fd_.reset(::mkostemp(pattern.data(), O_CLOEXEC));
    if (!fd_.valid()) format::throw_snapshot_errno(name_, "cannot create");
    temporary_file_ = pattern;
    // mkostemp creates 0600; a snapshot is ordinary data.
    ::fchmod(fd_.get(), 0644);
  }
  TemporarySnapshotFile(const TemporarySnapshotFile&) = delete;
  TemporarySnapshotFile& operator=(const TemporarySnapshotFile&) = delete;
  ~TemporarySnapshotFile() {
    if (!committed_) ::unlink(temporary_file_.c_str());
  }

  int fd() const noexcept { return fd_.get(); }
  const std::string& name() const noexcept { return name_; }

  void set_size(std::uint64_t bytes) {
    if (::ftruncate(fd_.get(), static_cast<off_t>(bytes)) != 0) {
      format::throw_snapshot_errno(name_, "cannot set size");
    }
  }
  void commit() {
    if (::rename(temporary_file_.c_str(), final_file_.c_str()) != 0) {
      format::throw_snapshot_errno(name_, "cannot rename temporary file into place");
    }
    committed_ = true;
  }

 private:
  std::filesystem::path final_file_;
  std::string name_;
  std::string temporary_file_;
  UniqueFd fd_;
  bool committed_ = false;
};

}  // namespace

MemFile::MemFile(UniqueFd fd, std::filesystem::path backing_file, std::size_t size_bytes)
    : fd_(std::move(fd)),
      size_(size_bytes),
      backing_file_(std::move(backing_file)),
      dirty_words_(format::bitmap_words(size_bytes)),
      written_words_(format::bitmap_words(size_bytes)) {
  void* ram = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
  if (ram == MAP_FAILED) throw_memory_file_errno(backing_file_, "cannot map");
  mapping_ = Mapping(ram, size_);
}

MemFile MemFile::create_anonymous(std::size_t size_bytes) {
  check_guest_size(size_bytes);
  UniqueFd fd(::memfd_create("faultline-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) throw_memory_file_errno({}, "cannot create");
  if (::ftruncate(fd.get(), static_cast<off_t>(size_bytes)) != 0) {
    throw_memory_file_errno({}, "cannot set size");
  }
  // Nobody holding fd() may resize it under the mappings: shrinking would turn
  // guest accesses into SIGBUS.
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    throw_memory_file_errno({}, "cannot seal size");
  }
  return MemFile(std::move(fd), {}, size_bytes);
}

MemFile MemFile::create_at_path(const std::filesystem::path& file, std::size_t size_bytes) {
  check_guest_size(size_bytes);
  UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) throw_memory_file_errno(file, "cannot create");
  if (::ftruncate(fd.get(), static_cast<off_t>(size_bytes)) != 0) {
    throw_memory_file_errno(file, "cannot set size");
  }
  return MemFile(std::move(fd), file, size_bytes);
}

void MemFile::clear_dirty() noexcept { make_baseline(0); }

void MemFile::make_baseline(std::uint64_t snapshot_id) noexcept {
  std::fill(dirty_words_.begin(), dirty_words_.end(), 0);
  baseline_snapshot_id_ = snapshot_id;
}

MemorySnapshot MemFile::snapshot_in_memory() {
  const std::string name = "in-memory snapshot";
  UniqueFd fd(::memfd_create("faultline-memory-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) format::throw_snapshot_errno(name, "cannot create memfd");
  const format::Header header = format::make_header(size_, format::new_snapshot_id());
  if (::ftruncate(fd.get(), static_cast<off_t>(format::expected_file_size(header))) != 0) {
    format::throw_snapshot_errno(name, "cannot set size");
  }
  format::write_all(fd.get(), &header, sizeof header, 0, name);
  format::write_nonzero_pages(fd.get(), data(), size_, format::kHeaderBytes, name);
  // Sealed so nothing can change what restores copy from.
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) !=
      0) {
    format::throw_snapshot_errno(name, "cannot seal");
  }
  MemorySnapshot snapshot(std::move(fd), name);
  make_baseline(snapshot.id());
  return snapshot;
}

void MemFile::write_snapshot(const std::filesystem::path& file) {
  TemporarySnapshotFile output(file);
  const format::Header header = format::make_header(size_, format::new_snapshot_id());
  output.set_size(format::expected_file_size(header));
  format::write_all(output.fd(), &header, sizeof header, 0, output.name());
  format::write_nonzero_pages(output.fd(), data(), size_, format::kHeaderBytes, output.name());
  output.commit();
  make_baseline(header.snapshot_id);
}

void MemFile::write_dirty_snapshot(const std::filesystem::path& file,
                                   const MemorySnapshot& base) {
  if (base.id() != baseline_snapshot_id_ || baseline_snapshot_id_ == 0) {
    format::throw_snapshot_error(file.string(), "cannot write dirty pages against '" +
                                                    base.name() +
                                                    "': it is not the snapshot last taken or "
                                                    "restored, so the dirty bits are not "
                                                    "relative to it");
  }
  check_snapshot_size(base);

  TemporarySnapshotFile output(file);
  const format::Header header =
      format::make_header(size_, format::new_snapshot_id(), base.id(), dirty_count());
  output.set_size(format::expected_file_size(header));
  format::write_all(output.fd(), &header, sizeof header, 0, output.name());
  format::write_all(output.fd(), dirty_words_.data(), dirty_words_.size() * sizeof(std::uint64_t),
                    format::kHeaderBytes, output.name());
  off_t next_page_offset =
      static_cast<off_t>(format::kHeaderBytes + format::bitmap_region_bytes(size_));
  for_each_dirty_page([&](std::size_t page) {
    format::write_nonzero_pages(output.fd(), data() + page * kGuestPageSize, kGuestPageSize,
                                next_page_offset, output.name());
    next_page_offset += kGuestPageSize;
  });
  output.commit();
  make_baseline(header.snapshot_id);
}

void MemFile::check_snapshot_size(const MemorySnapshot& snapshot) const {
  if (snapshot.size() != size_) {
    format::throw_snapshot_error(snapshot.name(), "holds " + std::to_string(snapshot.size()) +
                                                      " bytes of memory, the guest has " +
                                                      std::to_string(size_));
  }
}

void MemFile::restore_snapshot(const MemorySnapshot& snapshot) {
  check_snapshot_size(snapshot);
  if (snapshot.id() != baseline_snapshot_id_) {
    note_all_written();  // every page is replaced
    if (is_cow_mapped()) {
      map_snapshot_cow(snapshot);
      return;
    }
    std::memcpy(data(), snapshot.data(), size_);
    last_restore_pages_ = page_count();
  } else if (snapshot.id() == cow_source_id_) {
    note_dirty_as_written();
    last_restore_pages_ = dirty_count();
    discard_private_dirty_pages(snapshot);
  } else {
    note_dirty_as_written();
    last_restore_pages_ = dirty_count();
    copy_dirty_pages_from(snapshot);
  }
  make_baseline(snapshot.id());
}

void MemFile::note_all_written() noexcept {
  const std::size_t pages = page_count();
  for (std::size_t i = 0; i < written_words_.size(); ++i) {
    const std::size_t first = i * 64;
    written_words_[i] = pages - first >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << (pages - first)) - 1;
  }
}

void MemFile::note_dirty_as_written() noexcept {
  for (std::size_t i = 0; i < dirty_words_.size(); ++i) written_words_[i] |= dirty_words_[i];
}

void MemFile::copy_dirty_pages_from(const MemorySnapshot& snapshot) noexcept {
  for_each_dirty_page([&](std::size_t page) {
    const std::size_t offset = page * kGuestPageSize;
    std::memcpy(data() + offset, snapshot.data() + offset, kGuestPageSize);
  });
}

void MemFile::discard_private_dirty_pages(const MemorySnapshot& cow_source) noexcept {
  // Runs of adjacent dirty pages go to madvise together. Dropping a private
  // copy makes the page read from the snapshot file again on next touch.
  std::size_t run_start = 0;
  std::size_t run_pages = 0;
  auto discard_run = [&] {
    if (run_pages == 0) return;
    std::uint8_t* start = data() + run_start * kGuestPageSize;
    const std::size_t length = run_pages * kGuestPageSize;
    if (::madvise(start, length, MADV_DONTNEED) != 0) {
      std::memcpy(start, cow_source.data() + run_start * kGuestPageSize, length);
    }
  };
  for_each_dirty_page([&](std::size_t page) {
    if (run_pages > 0 && page == run_start + run_pages) {
      ++run_pages;
      return;
    }
    discard_run();
    run_start = page;
    run_pages = 1;
  });
  discard_run();
}

int MemFile::remap_guest_ram(int flags, int fd, off_t offset) noexcept {
  void* ram = ::mmap(data(), size_, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, offset);
  return ram == MAP_FAILED ? errno : 0;
}

void MemFile::map_snapshot_cow(const std::filesystem::path& file) {
  map_snapshot_cow(MemorySnapshot::open(file));
}

void MemFile::map_snapshot_cow(const MemorySnapshot& snapshot) {
  check_snapshot_size(snapshot);
  const int error = remap_guest_ram(MAP_PRIVATE, snapshot.fd(),
                                    static_cast<off_t>(MemorySnapshot::image_offset()));
  if (error != 0) {
    if (is_cow_mapped()) abort_guest_ram_lost("mapping a snapshot copy-on-write", error);
    // Guest RAM lives in fd_, so the shared mapping can be put back unchanged.
    if (const int remap_error = remap_guest_ram(MAP_SHARED, fd_.get(), 0); remap_error != 0) {
      abort_guest_ram_lost("mapping a snapshot copy-on-write", remap_error);
    }
    errno = error;
    format::throw_snapshot_errno(snapshot.name(), "cannot map copy-on-write");
  }
  cow_source_id_ = snapshot.id();
  last_restore_pages_ = page_count();
  note_all_written();  // every page is replaced
  make_baseline(snapshot.id());
}

void MemFile::unmap_snapshot_cow() {
  if (!is_cow_mapped()) return;
  const std::uint8_t* ram = data();
  for (std::size_t done = 0; done < size_;) {
    const ssize_t written = ::pwrite(fd_.get(), ram + done, size_ - done, static_cast<off_t>(done));
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_memory_file_errno(backing_file_, "cannot write back copy-on-write memory");
    }
    done += static_cast<std::size_t>(written);
  }
  if (const int error = remap_guest_ram(MAP_SHARED, fd_.get(), 0); error != 0) {
    abort_guest_ram_lost("mapping guest RAM shared again", error);
  }
  cow_source_id_ = 0;
}

}  // namespace faultline
