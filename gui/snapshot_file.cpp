#include "gui/snapshot_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "experiments/campaign/sha256.h"
#include "memfile/guest_page.h"

namespace faultline::gui {

namespace {

static_assert(std::is_trivially_copyable_v<CpuState>, "snapshot files store CpuState as raw bytes");
static_assert(std::is_standard_layout_v<CpuState>, "the layout digest uses offsetof");

constexpr char kMagic[8] = {'F', 'L', 'T', 'L', 'S', 'N', 'A', 'P'};
constexpr size_t kHeaderSize = 32;
constexpr size_t kDigestSize = 32;
constexpr size_t kPageRecord = 8 + kGuestPageSize;

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t get_le(const std::string& in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[at + static_cast<size_t>(i)]);
  return v;
}

bool all_zero(const uint8_t* page) {
  static const uint8_t zero[kGuestPageSize] = {};
  return std::memcmp(page, zero, kGuestPageSize) == 0;
}

std::string errno_text() { return std::strerror(errno); }

// Streams bytes into the temporary file while hashing them.
class HashingWriter {
 public:
  HashingWriter(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  void write(const void* data, size_t len) {
    sha_.update(data, len);
    raw(data, len);
  }
  void write(const std::string& s) { write(s.data(), s.size()); }
  void finish() {
    const std::array<uint8_t, 32> digest = sha_.finish();
    raw(digest.data(), digest.size());
  }

 private:
  void raw(const void* data, size_t len) {
    const char* p = static_cast<const char*>(data);
    while (len > 0) {
      const ssize_t n = ::write(fd_, p, len);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error(name_ + ": cannot write the snapshot: " + errno_text());
      p += n;
      len -= static_cast<size_t>(n);
    }
  }
  int fd_;
  std::string name_;
  campaign::Sha256 sha_;
};

}  // namespace

std::string cpu_state_layout_digest() {
  // Offsets and sizes of every field, and the host's long double (the x87
  // registers): a build where any of them differs reads CpuState otherwise.
  std::string d =
      "CpuState " + std::to_string(sizeof(CpuState)) + " align " + std::to_string(alignof(CpuState));
  auto field = [&d](const char* name, size_t offset, size_t size) {
    d += std::string(" ") + name + "@" + std::to_string(offset) + ":" + std::to_string(size);
  };
#define FL_FIELD(f) field(#f, offsetof(CpuState, f), sizeof(CpuState::f))
  FL_FIELD(gpr);
  FL_FIELD(eip);
  FL_FIELD(eflags_bits);
  FL_FIELD(lf_res);
  FL_FIELD(lf_dst);
  FL_FIELD(lf_src);
  FL_FIELD(lf_op);
  FL_FIELD(lf_size);
  FL_FIELD(lf_cf);
  FL_FIELD(cpl);
  FL_FIELD(seg);
  FL_FIELD(gdtr);
  FL_FIELD(idtr);
  FL_FIELD(ldtr);
  FL_FIELD(tr);
  FL_FIELD(cr0);
  FL_FIELD(cr2);
  FL_FIELD(cr3);
  FL_FIELD(cr4);
  FL_FIELD(dr);
  FL_FIELD(fpu);
  FL_FIELD(tsc_offset);
  FL_FIELD(msr_sysenter_cs);
  FL_FIELD(msr_sysenter_esp);
  FL_FIELD(msr_sysenter_eip);
  FL_FIELD(msr_apic_base);
  FL_FIELD(msr_misc_enable);
  FL_FIELD(msr_mtrr_var);
  FL_FIELD(msr_mtrr_fixed);
  FL_FIELD(msr_mtrr_def_type);
  FL_FIELD(msr_pat);
  FL_FIELD(a20_enabled);
  FL_FIELD(halted);
  FL_FIELD(inhibit_interrupts);
#undef FL_FIELD
#define FL_SEG(f) field("seg." #f, offsetof(SegmentCache, f), sizeof(SegmentCache::f))
  FL_SEG(selector);
  FL_SEG(attr);
  FL_SEG(base);
  FL_SEG(limit);
  FL_SEG(valid);
#undef FL_SEG
#define FL_FPU(f) field("fpu." #f, offsetof(FpuState, f), sizeof(FpuState::f))
  FL_FPU(st);
  FL_FPU(control);
  FL_FPU(status);
  FL_FPU(tag);
  FL_FPU(last_opcode);
  FL_FPU(last_ip);
  FL_FPU(last_cs);
  FL_FPU(last_dp);
  FL_FPU(last_ds);
  FL_FPU(ferr_pending);
#undef FL_FPU
  d += " long-double-digits " + std::to_string(std::numeric_limits<long double>::digits);
  return campaign::sha256_hex(d);
}

std::string file_sha256(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file + ": cannot open: " + errno_text());
  campaign::Sha256 sha;
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    sha.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw std::runtime_error(file + ": read error");
  const std::array<uint8_t, 32> d = sha.finish();
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

void write_snapshot_file(const std::string& path, const pb::GuiSnapshot& meta, const uint8_t* ram,
                         size_t ram_size) {
  std::string meta_bytes;
  if (!meta.SerializeToString(&meta_bytes))
    throw std::runtime_error(path + ": cannot encode the snapshot metadata");
  const size_t pages = ram_size / kGuestPageSize;
  uint64_t nonzero = 0;
  for (size_t p = 0; p < pages; ++p)
    if (!all_zero(ram + p * kGuestPageSize)) ++nonzero;

  std::string tmp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw std::runtime_error(path + ": cannot create a temporary file next to it: " + errno_text());
  try {
    ::fchmod(fd, 0644);
    HashingWriter out(fd, path);
    std::string header(kMagic, sizeof kMagic);
    put_u32(header, kSnapshotFormatVersion);
    put_u32(header, 0);
    put_u64(header, meta_bytes.size());
    put_u64(header, nonzero);
    out.write(header);
    out.write(meta_bytes);
    for (size_t p = 0; p < pages; ++p) {
      const uint8_t* page = ram + p * kGuestPageSize;
      if (all_zero(page)) continue;
      std::string index;
      put_u64(index, p);
      out.write(index);
      out.write(page, kGuestPageSize);
    }
    out.finish();
    if (::fsync(fd) != 0) throw std::runtime_error(path + ": cannot write the snapshot: " + errno_text());
    const int closed = ::close(fd);
    fd = -1;
    if (closed != 0) throw std::runtime_error(path + ": cannot write the snapshot: " + errno_text());
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw std::runtime_error(path + ": cannot rename the finished snapshot into place: " + why);
  }
}

SnapshotFileData read_snapshot_file(const std::string& path) {
  SnapshotFileData f;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open: " + errno_text());
    f.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) throw std::runtime_error(path + ": read error");
  }
  const std::string& b = f.bytes;
  const size_t size = b.size();
  if (size < sizeof kMagic) {
    if (b.compare(0, size, kMagic, size) == 0 && size > 0)
      throw std::runtime_error(path + ": truncated snapshot file (" + std::to_string(size) + " bytes)");
    throw std::runtime_error(path + ": not a faultline snapshot file (bad magic)");
  }
  if (b.compare(0, sizeof kMagic, kMagic, sizeof kMagic) != 0)
    throw std::runtime_error(path + ": not a faultline snapshot file (bad magic)");
  if (size < kHeaderSize + kDigestSize)
    throw std::runtime_error(path + ": truncated snapshot file (" + std::to_string(size) +
                             " bytes, shorter than its header)");
  const uint32_t version = static_cast<uint32_t>(get_le(b, 8, 4));
  if (version != kSnapshotFormatVersion)
    throw std::runtime_error(path + ": unsupported snapshot format version " + std::to_string(version) +
                             " (this build reads version " + std::to_string(kSnapshotFormatVersion) + ")");
  const uint64_t meta_len = get_le(b, 16, 8);
  f.page_count = get_le(b, 24, 8);
  const uint64_t body = size - kHeaderSize - kDigestSize;
  // Compared without overflow: the counts may be garbage.
  const bool fits = meta_len <= body && f.page_count <= (body - meta_len) / kPageRecord;
  const uint64_t expected = fits ? kHeaderSize + meta_len + f.page_count * kPageRecord + kDigestSize : 0;
  if (!fits || expected > size)
    throw std::runtime_error(path + ": truncated snapshot file (" + std::to_string(size) +
                             " bytes, less than its header announces)");
  if (expected < size)
    throw std::runtime_error(path + ": " + std::to_string(size - expected) +
                             " unexpected bytes after the snapshot's end (corrupt file)");
  campaign::Sha256 sha;
  sha.update(b.data(), size - kDigestSize);
  const std::array<uint8_t, 32> digest = sha.finish();
  if (std::memcmp(digest.data(), b.data() + size - kDigestSize, kDigestSize) != 0)
    throw std::runtime_error(path + ": checksum mismatch: the snapshot file is corrupt");
  if (!f.meta.ParseFromArray(b.data() + kHeaderSize, static_cast<int>(meta_len)))
    throw std::runtime_error(path + ": the snapshot's metadata cannot be decoded");
  f.pages_offset = kHeaderSize + meta_len;

  const pb::GuiSnapshotMachine& m = f.meta.machine();
  if (m.cpu_state_size() != sizeof(CpuState) || m.cpu_state().size() != sizeof(CpuState) ||
      m.cpu_layout() != cpu_state_layout_digest())
    throw std::runtime_error(path + ": CPU state layout differs from this build's (" +
                             std::to_string(m.cpu_state_size()) + " bytes saved, " +
                             std::to_string(sizeof(CpuState)) +
                             " here): the snapshot was written by an incompatible build");
  std::memcpy(static_cast<void*>(&f.cpu), m.cpu_state().data(), sizeof(CpuState));

  const uint64_t mib = f.meta.session().memory_mib();
  const uint64_t ram_pages = (mib << 20) / kGuestPageSize;
  if (mib == 0 || mib > 4096)
    throw std::runtime_error(path + ": memory size mismatch: " + std::to_string(mib) +
                             " MiB is not a guest memory size");
  uint64_t last = 0;
  for (uint64_t i = 0; i < f.page_count; ++i) {
    const uint64_t index = get_le(b, f.pages_offset + i * kPageRecord, 8);
    if (index >= ram_pages)
      throw std::runtime_error(path + ": memory size mismatch: page " + std::to_string(index) +
                               " lies beyond the " + std::to_string(mib) + " MiB of guest RAM");
    if (i > 0 && index <= last) throw std::runtime_error(path + ": RAM pages out of order (corrupt file)");
    last = index;
  }
  return f;
}

void SnapshotFileData::fill_ram(const std::string& path, MemFile& ram) const {
  const uint64_t want = meta.session().memory_mib() << 20;
  if (ram.size() != want)
    throw std::runtime_error(path + ": memory size mismatch: the snapshot holds " +
                             std::to_string(want >> 20) + " MiB of guest RAM, the machine has " +
                             std::to_string(ram.size() >> 20) + " MiB");
  uint64_t next = 0;  // first page not yet written
  auto zero_up_to = [&](uint64_t end) {
    for (; next < end; ++next) {
      uint8_t* page = ram.data() + next * kGuestPageSize;
      if (all_zero(page)) continue;  // reading leaves unused memfd pages unallocated
      std::memset(page, 0, kGuestPageSize);
      ram.mark_dirty(next * kGuestPageSize);
    }
  };
  for (uint64_t i = 0; i < page_count; ++i) {
    const size_t at = pages_offset + i * kPageRecord;
    const uint64_t index = get_le(bytes, at, 8);
    zero_up_to(index);
    std::memcpy(ram.data() + index * kGuestPageSize, bytes.data() + at + 8, kGuestPageSize);
    ram.mark_dirty(index * kGuestPageSize);
    next = index + 1;
  }
  zero_up_to(ram.page_count());
}

void check_snapshot_inputs(const std::string& path, const pb::GuiSnapshot& meta) {
  for (const pb::GuiSnapshotInput& in : meta.inputs()) {
    if (!std::filesystem::exists(in.path()))
      throw std::runtime_error(path + ": the " + in.role() + " file " + in.path() +
                               " the snapshot was made from is missing");
    if (file_sha256(in.path()) != in.sha256())
      throw std::runtime_error(path + ": the " + in.role() + " file " + in.path() +
                               " changed since the snapshot was saved (SHA-256 differs)");
  }
}

}  // namespace faultline::gui
