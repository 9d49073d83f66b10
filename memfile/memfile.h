#pragma once

// Guest physical RAM, held in a file.
//
// Why a file: the interpreter, the JIT's fast-memory window and the
// direct-execution child process all need the same guest RAM at different host
// addresses (the child even in another process). A file can be mmap'd any
// number of times, anywhere, by anyone holding its descriptor; file offset ==
// guest physical address. By default the file is a memfd (anonymous, in RAM,
// gone with the last descriptor); --memory-file PATH puts it on disk so it
// outlives the run.
//
// Why MAP_SHARED: every mapping of the file then sees every write at once, with
// no copying or syncing between the views. The price is that guest RAM cannot
// be private to one mapping, which is what the COW mode below gives up.
//
// Dirty tracking: one bit per 4 KiB page, set by mark_dirty() on every guest
// write the simulator performs (a shift, an index and an OR, inline). The bits
// mean "may differ from the baseline": the snapshot last taken or restored.
// Writers that bypass mark_dirty() (the JIT window, the direct-execution child,
// DMA from host code) must report their writes, or restore will miss them.
//
// Write watching: a second bitmap, set together with the dirty bits but left
// alone by snapshots, tells a watcher which pages were written since it last
// looked (take_written_pages()); the GUI's golden-versus-faulty comparison
// uses it to compare only those pages of two machines. Restores count as
// writes of the pages they replace.
//
// Restore (default): copy back from the snapshot's read-only mapping only the
// pages whose bit is set, so restoring costs O(pages dirtied), not O(RAM). Each
// snapshot carries a random id; if the snapshot being restored is not the
// baseline, every page is copied once and it becomes the baseline.
//
// Restore (COW, map_snapshot_cow): map the snapshot file MAP_PRIVATE over guest
// RAM. Starting from a snapshot copies nothing, and a later restore to it just
// discards the private copies of the dirty pages (MADV_DONTNEED). But the guest
// RAM is then private to this mapping: fd() no longer holds guest memory, so
// the JIT window and the direct-execution child cannot share it until
// unmap_snapshot_cow() writes it back. Hence the copying restore is the default.

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "memfile/guest_page.h"
#include "memfile/memory_snapshot.h"
#include "memfile/posix_handles.h"

namespace faultline {

class MemFile {
 public:
  // Guest RAM in a memfd. size_bytes must be a non-zero multiple of
  // kGuestPageSize (else std::invalid_argument).
  static MemFile create_anonymous(std::size_t size_bytes);
  // Guest RAM in `file`, created or truncated to size_bytes of zeros; the file
  // stays when the MemFile goes. Throws std::runtime_error naming the file.
  static MemFile create_at_path(const std::filesystem::path& file, std::size_t size_bytes);

  MemFile(MemFile&&) noexcept = default;
  MemFile& operator=(MemFile&&) noexcept = default;
  ~MemFile() = default;

  std::uint8_t* data() noexcept { return mapping_.bytes(); }
  const std::uint8_t* data() const noexcept { return mapping_.bytes(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t page_count() const noexcept { return size_ / kGuestPageSize; }
  // Holds guest RAM at offset == guest physical address, except while COW-mapped.
  // Opened close-on-exec; stays valid for the MemFile's lifetime.
  int fd() const noexcept { return fd_.get(); }
  // Empty for a memfd.
  const std::filesystem::path& backing_file() const noexcept { return backing_file_; }

  // --- Dirty tracking (hot path: the interpreter calls these on writes) ---

  void mark_dirty(std::uint64_t paddr) noexcept {
    assert(paddr < size_);
    const std::uint64_t page = paddr >> kGuestPageShift;
    dirty_words_[page / 64] |= std::uint64_t{1} << (page % 64);
    written_words_[page / 64] |= std::uint64_t{1} << (page % 64);
  }
  void mark_dirty_range(std::uint64_t paddr, std::uint64_t length) noexcept {
    if (length == 0) return;
    assert(paddr < size_ && length <= size_ - paddr);
    const std::uint64_t last_page = (paddr + length - 1) >> kGuestPageShift;
    for (std::uint64_t page = paddr >> kGuestPageShift; page <= last_page; ++page) {
      dirty_words_[page / 64] |= std::uint64_t{1} << (page % 64);
      written_words_[page / 64] |= std::uint64_t{1} << (page % 64);
    }
  }
  bool is_page_dirty(std::size_t page_index) const noexcept {
    assert(page_index < page_count());
    return (dirty_words_[page_index / 64] >> (page_index % 64)) & 1;
  }
  std::size_t dirty_count() const noexcept {
    std::size_t count = 0;
    for (std::uint64_t word : dirty_words_) count += std::popcount(word);
    return count;
  }
  // Calls visit(page_index) for each dirty page, in ascending order.
  template <typename Visit>
  void for_each_dirty_page(Visit&& visit) const {
    for (std::size_t word_index = 0; word_index < dirty_words_.size(); ++word_index) {
      for (std::uint64_t bits = dirty_words_[word_index]; bits != 0; bits &= bits - 1) {
        visit(word_index * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
      }
    }
  }
  // Calls visit(page_index) for each page written since the last call (or
  // since the MemFile was made), in ascending order, and forgets them.
  template <typename Visit>
  void take_written_pages(Visit&& visit) {
    for (std::size_t word_index = 0; word_index < written_words_.size(); ++word_index) {
      std::uint64_t bits = written_words_[word_index];
      if (bits == 0) continue;
      written_words_[word_index] = 0;
      for (; bits != 0; bits &= bits - 1) {
        visit(word_index * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
      }
    }
  }
  // Also forgets the restore baseline: with the bits gone nothing says which
  // pages differ from it, so the next restore copies every page.
  void clear_dirty() noexcept;

  // --- Snapshots ---
  // Taking, writing or restoring a snapshot makes it the baseline and clears
  // the dirty bits. Host-level failures throw std::runtime_error naming the
  // file; the MemFile is then unchanged.

  // Copies guest RAM into a sealed memfd (zero pages stay holes).
  MemorySnapshot snapshot_in_memory();
  // Writes a full snapshot file (zero pages as holes), atomically: a temporary
  // file in the same directory is renamed over `file`.
  void write_snapshot(const std::filesystem::path& file);
  // Writes only the dirty pages; `base` must be the current baseline. Read it
  // back with MemorySnapshot::open_delta(file, base).
  void write_dirty_snapshot(const std::filesystem::path& file, const MemorySnapshot& base);

  // Makes guest RAM equal to `snapshot`, touching only the dirty pages when
  // `snapshot` is the baseline. Throws if the sizes differ.
  void restore_snapshot(const MemorySnapshot& snapshot);
  // Pages the last restore (or COW mapping) replaced.
  std::size_t last_restore_pages() const noexcept { return last_restore_pages_; }

  // Maps the snapshot MAP_PRIVATE over guest RAM; see the design note for the
  // trade-off. data() keeps its address. Later restores of this snapshot discard
  // the dirty pages' private copies; restoring another snapshot maps that one.
  void map_snapshot_cow(const std::filesystem::path& file);
  void map_snapshot_cow(const MemorySnapshot& snapshot);
  // Writes current guest RAM into fd() and maps it MAP_SHARED again (copies all
  // of RAM). Dirty bits and baseline are kept: the contents do not change.
  void unmap_snapshot_cow();
  bool is_cow_mapped() const noexcept { return cow_source_id_ != 0; }

 private:
  MemFile(UniqueFd fd, std::filesystem::path backing_file, std::size_t size_bytes);

  void check_snapshot_size(const MemorySnapshot& snapshot) const;
  void make_baseline(std::uint64_t snapshot_id) noexcept;
  void note_dirty_as_written() noexcept;  // restore: the pages it replaces count as written
  void note_all_written() noexcept;       // a restore that replaces every page (the dirty bits are not touched)
  void copy_dirty_pages_from(const MemorySnapshot& snapshot) noexcept;
  void discard_private_dirty_pages(const MemorySnapshot& cow_source) noexcept;
  // Maps `fd` at `offset` over data() with MAP_FIXED; returns errno or 0.
  int remap_guest_ram(int flags, int fd, off_t offset) noexcept;

  UniqueFd fd_;
  Mapping mapping_;
  std::size_t size_ = 0;
  std::filesystem::path backing_file_;
  std::vector<std::uint64_t> dirty_words_;
  std::vector<std::uint64_t> written_words_;  // write watching, see the design note
  std::uint64_t baseline_snapshot_id_ = 0;  // 0: no baseline
  std::uint64_t cow_source_id_ = 0;         // 0: mapped shared from fd_
  std::size_t last_restore_pages_ = 0;
};

}  // namespace faultline
