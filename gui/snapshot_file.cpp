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

namespace {
void seg_to_proto(const SegmentCache& c, pb::Segment& p) {
  p.set_selector(c.selector);
  p.set_base(c.base);
  p.set_limit(c.limit);
  p.set_attr(c.attr);
  p.set_valid(c.valid);
}

SegmentCache seg_from_proto(const pb::Segment& p) {
  SegmentCache c;
  c.selector = static_cast<uint16_t>(p.selector());
  c.base = p.base();
  c.limit = p.limit();
  c.attr = static_cast<uint16_t>(p.attr());
  c.valid = p.valid();
  return c;
}

constexpr size_t kX87Bytes = 10;  // one 80-bit register
}  // namespace

void cpu_state_to_proto(const CpuState& c, uint32_t eflags, pb::CpuState& p) {
  p.Clear();
  for (uint32_t r : c.gpr) p.add_gpr(r);
  p.set_eip(c.eip);
  p.set_eflags(eflags);
  p.set_cpl(c.cpl);
  for (const SegmentCache& sc : c.seg) seg_to_proto(sc, *p.add_seg());
  p.set_gdtr_base(c.gdtr.base);
  p.set_gdtr_limit(c.gdtr.limit);
  p.set_idtr_base(c.idtr.base);
  p.set_idtr_limit(c.idtr.limit);
  seg_to_proto(c.ldtr, *p.mutable_ldtr());
  seg_to_proto(c.tr, *p.mutable_tr());
  p.set_cr0(c.cr0);
  p.set_cr2(c.cr2);
  p.set_cr3(c.cr3);
  p.set_cr4(c.cr4);
  for (uint32_t d : c.dr) p.add_dr(d);
  static_assert(std::numeric_limits<long double>::digits == 64, "x87 registers are the host's 80-bit long double");
  std::string st;
  for (const long double& v : c.fpu.st) st.append(reinterpret_cast<const char*>(&v), kX87Bytes);
  p.set_fpu_st(st);
  p.set_fpu_control(c.fpu.control);
  p.set_fpu_status(c.fpu.status);
  p.set_fpu_tag(c.fpu.tag);
  p.set_fpu_last_opcode(c.fpu.last_opcode);
  p.set_fpu_last_ip(c.fpu.last_ip);
  p.set_fpu_last_cs(c.fpu.last_cs);
  p.set_fpu_last_dp(c.fpu.last_dp);
  p.set_fpu_last_ds(c.fpu.last_ds);
  p.set_fpu_ferr(c.fpu.ferr_pending);
  p.set_tsc_offset(c.tsc_offset);
  p.set_msr_sysenter_cs(c.msr_sysenter_cs);
  p.set_msr_sysenter_esp(c.msr_sysenter_esp);
  p.set_msr_sysenter_eip(c.msr_sysenter_eip);
  p.set_msr_apic_base(c.msr_apic_base);
  p.set_msr_misc_enable(c.msr_misc_enable);
  for (uint64_t v : c.msr_mtrr_var) p.add_msr_mtrr_var(v);
  for (uint64_t v : c.msr_mtrr_fixed) p.add_msr_mtrr_fixed(v);
  p.set_msr_mtrr_def_type(c.msr_mtrr_def_type);
  p.set_msr_pat(c.msr_pat);
  p.set_a20(c.a20_enabled);
  p.set_halted(c.halted);
  p.set_inhibit_interrupts(c.inhibit_interrupts);
}

CpuState cpu_state_from_proto(const pb::CpuState& p, const std::string& path) {
  CpuState c;
  auto need = [&](int have, size_t want, const char* what) {
    if (static_cast<size_t>(have) != want)
      throw std::runtime_error(path + ": malformed CPU state in the snapshot: " + std::to_string(have) + " " + what +
                               " (expected " + std::to_string(want) + ")");
  };
  need(p.gpr_size(), std::size(c.gpr), "general registers");
  need(p.seg_size(), std::size(c.seg), "segment registers");
  need(p.dr_size(), std::size(c.dr), "debug registers");
  need(static_cast<int>(p.fpu_st().size()), std::size(c.fpu.st) * kX87Bytes, "bytes of x87 registers");
  need(p.msr_mtrr_var_size(), c.msr_mtrr_var.size(), "variable-range MTRRs");
  need(p.msr_mtrr_fixed_size(), c.msr_mtrr_fixed.size(), "fixed-range MTRRs");
  for (size_t i = 0; i < std::size(c.gpr); ++i) c.gpr[i] = p.gpr(static_cast<int>(i));
  c.eip = p.eip();
  c.eflags_bits = p.eflags();
  c.lf_op = LazyOp::None;  // the flags are all in eflags_bits
  c.cpl = static_cast<uint8_t>(p.cpl());
  for (size_t i = 0; i < std::size(c.seg); ++i) c.seg[i] = seg_from_proto(p.seg(static_cast<int>(i)));
  c.gdtr = {p.gdtr_base(), p.gdtr_limit()};
  c.idtr = {p.idtr_base(), p.idtr_limit()};
  c.ldtr = seg_from_proto(p.ldtr());
  c.tr = seg_from_proto(p.tr());
  c.cr0 = p.cr0();
  c.cr2 = p.cr2();
  c.cr3 = p.cr3();
  c.cr4 = p.cr4();
  for (size_t i = 0; i < std::size(c.dr); ++i) c.dr[i] = p.dr(static_cast<int>(i));
  for (size_t i = 0; i < std::size(c.fpu.st); ++i) {
    c.fpu.st[i] = 0;
    std::memcpy(static_cast<void*>(&c.fpu.st[i]), p.fpu_st().data() + i * kX87Bytes, kX87Bytes);
  }
  c.fpu.control = static_cast<uint16_t>(p.fpu_control());
  c.fpu.status = static_cast<uint16_t>(p.fpu_status());
  c.fpu.tag = static_cast<uint16_t>(p.fpu_tag());
  c.fpu.last_opcode = static_cast<uint16_t>(p.fpu_last_opcode());
  c.fpu.last_ip = p.fpu_last_ip();
  c.fpu.last_cs = static_cast<uint16_t>(p.fpu_last_cs());
  c.fpu.last_dp = p.fpu_last_dp();
  c.fpu.last_ds = static_cast<uint16_t>(p.fpu_last_ds());
  c.fpu.ferr_pending = p.fpu_ferr();
  c.tsc_offset = p.tsc_offset();
  c.msr_sysenter_cs = p.msr_sysenter_cs();
  c.msr_sysenter_esp = p.msr_sysenter_esp();
  c.msr_sysenter_eip = p.msr_sysenter_eip();
  c.msr_apic_base = p.msr_apic_base();
  c.msr_misc_enable = p.msr_misc_enable();
  for (size_t i = 0; i < c.msr_mtrr_var.size(); ++i) c.msr_mtrr_var[i] = p.msr_mtrr_var(static_cast<int>(i));
  for (size_t i = 0; i < c.msr_mtrr_fixed.size(); ++i) c.msr_mtrr_fixed[i] = p.msr_mtrr_fixed(static_cast<int>(i));
  c.msr_mtrr_def_type = p.msr_mtrr_def_type();
  c.msr_pat = p.msr_pat();
  c.a20_enabled = p.a20();
  c.halted = p.halted();
  c.inhibit_interrupts = p.inhibit_interrupts();
  return c;
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

  f.cpu = cpu_state_from_proto(f.meta.machine().cpu(), path);
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
