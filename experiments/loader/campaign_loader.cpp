// Loading and validating experiment files: see campaign_loader.h.
#include "experiments/loader/campaign_loader.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "core/boot/elf_image.h"
#include "devices/firmware/firmware.h"
#include "faults/device_fields.h"

namespace faultline::experiments {

namespace {
constexpr const char* kDefaultBios = "/usr/share/seabios/bios-256k.bin";
constexpr const char* kDefaultVgaBios = "/usr/share/seabios/vgabios-stdvga.bin";

namespace gp = google::protobuf;
using TF = gp::TextFormat;

constexpr uint32_t kMaxMemoryMib = 3072;
constexpr uint32_t kMaxCheckpoints = 1000;
constexpr uint64_t k4GiB = uint64_t(1) << 32;

constexpr uint32_t kDefaultMemoryMib = 32;
constexpr uint64_t kDefaultIps = 100'000'000;
constexpr uint32_t kDefaultCheckpoints = 8;
constexpr uint64_t kDefaultMaxInstructions = 2'000'000'000;
constexpr double kDefaultTimeoutFactor = 2.0;
constexpr uint64_t kDefaultTimeoutMargin = 100'000;

std::string hex(uint64_t v) {
  std::ostringstream o;
  o << "0x" << std::hex << v;
  return o.str();
}

// ---- syntax errors ----------------------------------------------------------

struct RawError {
  int line, column;  // 0-based
  std::string message;
};

class Collector : public gp::io::ErrorCollector {
 public:
  void AddError(int line, gp::io::ColumnNumber column, const std::string& message) override {
    errors.push_back({line, column, message});
  }
  void AddWarning(int line, gp::io::ColumnNumber column, const std::string& message) override {
    warnings.push_back({line, column, message});
  }
  std::vector<RawError> errors, warnings;
};

// Errors after which parsing can go on once the statement is removed; the
// others (unbalanced braces, end of input) would only cascade.
bool recoverable(const std::string& msg) {
  static const char* const kinds[] = {
      "has no field named", "Unknown enumeration value", "Expected integer", "Expected double",
      "Expected string", "Integer out of range", "Invalid value for boolean field",
      "specified multiple times", "another member of oneof", "Expected \":\"", "Expected \"{\"",
      "Couldn't parse", "out of range", "Invalid escape", "Unknown extension"};
  for (const char* k : kinds)
    if (msg.find(k) != std::string::npos) return true;
  return false;
}

// The parser reports some errors at the token after the offending name
// (unknown field, unknown enum value, repeated singular field); move those to
// the start of the name, the last occurrence of it on the line before the
// reported column.
int adjust_column(const std::string& text, const RawError& e) {
  static const char* const kinds[] = {"has no field named \"", "Unknown enumeration value of \"",
                                      "Non-repeated field \"", "Field \""};
  std::string name;
  for (const char* k : kinds) {
    size_t p = e.message.find(k);
    if (p == std::string::npos) continue;
    p += std::strlen(k);
    size_t q = e.message.find('"', p);
    if (q != std::string::npos) name = e.message.substr(p, q - p);
    break;
  }
  if (name.empty() || e.line < 0) return e.column;
  size_t pos = 0;
  for (int l = 0; l < e.line && pos != std::string::npos; ++l) {
    pos = text.find('\n', pos);
    if (pos != std::string::npos) ++pos;
  }
  if (pos == std::string::npos) return e.column;
  std::string line = text.substr(pos, text.find('\n', pos) - pos);
  if (line.find('\t') != std::string::npos) return e.column;  // columns count tabs as 8
  size_t end = std::min<size_t>(std::max(e.column, 0), line.size());
  size_t at = line.rfind(name, end > name.size() ? end - name.size() : 0);
  if (at == std::string::npos || at + name.size() > end) return e.column;
  return int(at);
}

// Blanks (with spaces, keeping newlines) the statement on 0-based `line`: the
// whole line, or through the brace that closes a block it opens; closing
// braces of enclosing blocks on that line are kept. Returns false if nothing
// changed.
bool blank_statement(std::string& text, int line) {
  size_t pos = 0;
  for (int l = 0; l < line; ++l) {
    pos = text.find('\n', pos);
    if (pos == std::string::npos) return false;
    ++pos;
  }
  const std::string before = text;
  int depth = 0;  // relative to the start of the line
  bool in_str = false;
  char quote = 0;
  bool started_block = false;
  size_t i = pos;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      if (!started_block || depth <= 0) break;
      in_str = false;
      continue;
    }
    if (in_str) {
      if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
        text[i] = ' ';
        text[++i] = ' ';
        continue;
      }
      if (c == quote) in_str = false;
      text[i] = ' ';
      continue;
    }
    if (c == '#') {  // comment to end of line
      while (i < text.size() && text[i] != '\n') text[i++] = ' ';
      --i;
      continue;
    }
    if (c == '"' || c == '\'') {
      in_str = true;
      quote = c;
      text[i] = ' ';
      continue;
    }
    if (c == '{' || c == '<' || c == '[') {
      ++depth;
      started_block = true;
    } else if (c == '}' || c == '>' || c == ']') {
      if (depth == 0) continue;  // closes an enclosing block: keep
      --depth;
      if (depth == 0 && started_block) {
        text[i] = ' ';
        // Only the rest of this line remains; keep going on it.
        started_block = false;
        continue;
      }
    }
    text[i] = ' ';
  }
  return text != before;
}

// ---- locations ----------------------------------------------------------------

struct Loc {
  int line = 1, column = 1;  // 1-based
};

// A message of the parsed campaign with its parse-info tree and location.
struct Node {
  const gp::Message* msg = nullptr;
  const TF::ParseInfoTree* tree = nullptr;
  Loc loc;
  std::string path;

  const gp::FieldDescriptor* fd(const char* name) const {
    const gp::FieldDescriptor* f = msg->GetDescriptor()->FindFieldByName(name);
    if (!f) throw std::logic_error(std::string("campaign loader: no field ") + name);
    return f;
  }
  // Whether the field was written in the file (or, for messages and oneof
  // members, is set).
  bool written(const char* name) const {
    const gp::FieldDescriptor* f = fd(name);
    if (tree && tree->GetLocation(f, f->is_repeated() ? 0 : -1).line >= 0) return true;
    if (f->is_repeated()) return msg->GetReflection()->FieldSize(*msg, f) > 0;
    if (f->has_presence()) return msg->GetReflection()->HasField(*msg, f);
    return false;
  }
  Loc at(const char* name, int index = -1) const {
    if (tree) {
      const gp::FieldDescriptor* f = fd(name);
      auto l = tree->GetLocation(f, index);
      if (l.line < 0 && index > 0) l = tree->GetLocation(f, 0);  // list syntax
      if (l.line >= 0) return {l.line + 1, l.column + 1};
    }
    return loc;
  }
  std::string name_of(const char* name, int index = -1) const {
    std::string p = path.empty() ? name : path + "." + name;
    if (index >= 0) p += "[" + std::to_string(index) + "]";
    return p;
  }
  Node child(const char* name, int index = -1) const {
    const gp::FieldDescriptor* f = fd(name);
    const gp::Reflection* r = msg->GetReflection();
    Node n;
    n.msg = index >= 0 ? &r->GetRepeatedMessage(*msg, f, index) : &r->GetMessage(*msg, f);
    n.tree = tree ? tree->GetTreeForNested(f, index) : nullptr;
    n.loc = at(name, index);
    n.path = name_of(name, index);
    return n;
  }
};

// ---- registers ------------------------------------------------------------------

struct RegInfo {
  const char* name;
  unsigned bits;
};
constexpr RegInfo kRegisters[] = {
    {"eax", 32},    {"ecx", 32}, {"edx", 32}, {"ebx", 32}, {"esp", 32}, {"ebp", 32},
    {"esi", 32},    {"edi", 32}, {"eip", 32}, {"eflags", 32}, {"cs", 16}, {"ds", 16},
    {"es", 16},     {"fs", 16},  {"gs", 16},  {"ss", 16},  {"cr0", 32}, {"cr2", 32},
    {"cr3", 32},    {"cr4", 32}, {"st0", 64}, {"st1", 64}, {"st2", 64}, {"st3", 64},
    {"st4", 64},    {"st5", 64}, {"st6", 64}, {"st7", 64}, {"fcw", 16}, {"fsw", 16},
    {"gpr", 32}};

// ---- symbols --------------------------------------------------------------------

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string suggestion(const ElfImage& img, const std::string& name) {
  std::string best;
  size_t best_d = std::max<size_t>(3, name.size() / 3) + 1;
  for (const ElfSymbol& s : img.symbols_list) {
    size_t d = edit_distance(name, s.name);
    if (d < best_d) {
      best_d = d;
      best = s.name;
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

// ---- the validator ----------------------------------------------------------------

class Validator {
 public:
  Validator(pb::Campaign& c, const TF::ParseInfoTree* tree, std::string file,
            std::filesystem::path base_dir, const LoaderVars& vars)
      : c_(c), file_(std::move(file)), base_dir_(std::move(base_dir)), vars_(vars) {
    root_.msg = &c_;
    root_.tree = tree;
  }

  std::vector<Diagnostic> errors, warnings;
  std::string kernel_path;

  void run() {
    check_machine();
    check_workload();
    check_end();
    check_script();
    if (c_.fault_space_size() == 0)
      error({}, "fault_space: no fault groups (add at least one `fault_space { ... }`)");
    std::set<std::string> names;
    for (int i = 0; i < c_.fault_space_size(); ++i) {
      Node g = root_.child("fault_space", i);
      check_group(g);
      const std::string& n = c_.fault_space(i).name();
      if (!n.empty() && !names.insert(n).second)
        error(g.at("name"), g.name_of("name") + ": duplicate group name \"" + n + "\"");
    }
    check_sampling();
    check_classification();
    if (root_.written("checkpoints") &&
        (c_.checkpoints() == 0 || c_.checkpoints() > kMaxCheckpoints))
      error(root_.at("checkpoints"), "checkpoints: " + std::to_string(c_.checkpoints()) +
                                         " is out of range (1.." + std::to_string(kMaxCheckpoints) + ")");
    std::stable_sort(errors.begin(), errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
  }

  void apply_defaults() {
    pb::MachineConfig* m = c_.mutable_machine();
    if (m->memory_mib() == 0) m->set_memory_mib(kDefaultMemoryMib);
    if (m->instructions_per_second() == 0) m->set_instructions_per_second(kDefaultIps);
    if (c_.checkpoints() == 0) c_.set_checkpoints(kDefaultCheckpoints);
    Node end = root_.written("end") ? root_.child("end") : Node{};
    pb::EndCondition* e = c_.mutable_end();
    if (e->max_instructions() == 0) e->set_max_instructions(kDefaultMaxInstructions);
    if (!end.msg || !end.written("timeout_factor")) e->set_timeout_factor(kDefaultTimeoutFactor);
    if (!end.msg || !end.written("timeout_margin")) e->set_timeout_margin(kDefaultTimeoutMargin);
    for (int i = 0; i < c_.fault_space_size(); ++i) {
      pb::FaultGroup* g = c_.mutable_fault_space(i);
      if (g->name().empty()) g->set_name("group" + std::to_string(i + 1));
      pb::TargetSpace* t = g->mutable_target();
      if (t->has_memory() && t->memory().width() == 0) t->mutable_memory()->set_width(1);
      if (t->has_disk() && t->disk().width() == 0) t->mutable_disk()->set_width(1);
      if (g->model().has_bit_flip() && g->model().bit_flip().bits() == 0)
        g->mutable_model()->mutable_bit_flip()->set_bits(1);
      if (g->duration().kind_case() == pb::Duration::KIND_NOT_SET)
        g->mutable_duration()->set_transient(true);
      if (g->has_trigger()) default_trigger(*g->mutable_trigger());
    }
  }

 private:
  pb::Campaign& c_;
  Node root_;
  std::string file_;
  std::filesystem::path base_dir_;
  const LoaderVars& vars_;
  std::optional<ElfImage> elf_;
  bool platform_workload_ = false;  // linux, firmware, or multiboot with pc: true
  bool linux_ = false;     // linux workload (no ELF symbols)
  bool firmware_ = false;  // firmware workload (no ELF symbols)
  bool has_disks_ = false; // linux or firmware workload: IDE disks possible
  std::vector<faults::DeviceFieldInfo> device_catalog_;  // built on first use

  static std::string modelless_what(const pb::FaultGroup& grp) {
    const pb::TargetSpace& t = grp.target();
    if (t.has_disk()) return std::string("disk ") + pb::DiskFaultKind_Name(t.disk().kind());
    if (t.has_serial()) return "serial SERIAL_DROP";
    return std::string("irq ") + pb::IrqFaultKind_Name(t.irq().kind());
  }
  bool script_injects_ = false;

  void error(Loc l, std::string msg) { errors.push_back({file_, l.line, l.column, std::move(msg)}); }
  void warning(Loc l, std::string msg) { warnings.push_back({file_, l.line, l.column, std::move(msg)}); }

  uint64_t ram_bytes() const {
    uint32_t mib = c_.machine().memory_mib();
    if (mib == 0) mib = kDefaultMemoryMib;
    return uint64_t(std::min(mib, kMaxMemoryMib)) << 20;
  }

  static void default_range_step(pb::Range& r) {
    if (r.step() == 0) r.set_step(1);
  }
  static void default_occ(bool has, pb::Range* r) {
    if (!has) {
      r->set_start(1);
      r->set_end(2);
    }
    default_range_step(*r);
  }
  static void default_trigger(pb::TriggerSpace& t) {
    switch (t.kind_case()) {
      case pb::TriggerSpace::kInstructions: default_range_step(*t.mutable_instructions()); break;
      case pb::TriggerSpace::kTimeNs: default_range_step(*t.mutable_time_ns()); break;
      case pb::TriggerSpace::kPc: {
        bool has = t.pc().has_occurrences();
        default_occ(has, t.mutable_pc()->mutable_occurrences());
        break;
      }
      case pb::TriggerSpace::kMemoryAccess: {
        bool has = t.memory_access().has_occurrences();
        default_occ(has, t.mutable_memory_access()->mutable_occurrences());
        break;
      }
      case pb::TriggerSpace::kPort: {
        bool has = t.port().has_occurrences();
        default_occ(has, t.mutable_port()->mutable_occurrences());
        break;
      }
      case pb::TriggerSpace::kOutput: {
        bool has = t.output().has_occurrences();
        default_occ(has, t.mutable_output()->mutable_occurrences());
        break;
      }
      default: break;
    }
  }

  // A regex that must compile (ECMAScript); empty patterns are errors too.
  void check_regex(const Node& n, const char* field, int index, const std::string& pattern) {
    std::string what = n.name_of(field, index);
    if (pattern.empty()) {
      error(n.at(field, index), what + ": empty pattern");
      return;
    }
    try {
      std::regex re(pattern, std::regex::ECMAScript);
      if (std::regex_search(std::string(), re))
        warning(n.at(field, index), what + ": pattern \"" + pattern + "\" matches the empty string (any output)");
    } catch (const std::regex_error& e) {
      error(n.at(field, index), what + ": invalid regular expression \"" + pattern + "\": " + e.what());
    }
  }

  // Resolves a workload path (variables, relative to the file's directory).
  std::optional<std::string> resolve(const Node& n, const char* field, int index, const std::string& raw) {
    std::string what = n.name_of(field, index);
    if (raw.empty()) {
      error(n.at(field, index), what + ": empty path");
      return std::nullopt;
    }
    std::string s;
    try {
      s = expand_vars(raw, vars_);
    } catch (const std::runtime_error& e) {
      error(n.at(field, index), what + ": " + e.what());
      return std::nullopt;
    }
    std::filesystem::path p(s);
    if (p.is_relative()) p = base_dir_ / p;
    return p.lexically_normal().string();
  }

  void check_machine() {
    if (!c_.has_machine()) return;
    Node m = root_.child("machine");
    if (m.written("memory_mib") && (c_.machine().memory_mib() == 0 || c_.machine().memory_mib() > kMaxMemoryMib))
      error(m.at("memory_mib"), "machine.memory_mib: " + std::to_string(c_.machine().memory_mib()) +
                                    " is out of range (1.." + std::to_string(kMaxMemoryMib) + ")");
    if (m.written("instructions_per_second") && c_.machine().instructions_per_second() == 0)
      error(m.at("instructions_per_second"), "machine.instructions_per_second: must be at least 1");
  }

  void check_workload() {
    if (!c_.has_workload() || c_.workload().boot_case() == pb::Workload::BOOT_NOT_SET) {
      error(c_.has_workload() ? root_.at("workload") : Loc{},
            "workload: missing (set `workload { multiboot { kernel: \"...\" } }`)");
      return;
    }
    Node w = root_.child("workload");
    if (c_.workload().has_linux()) {
      platform_workload_ = true;
      linux_ = true;
      has_disks_ = true;
      check_linux(w.child("linux"));
      return;
    }
    if (c_.workload().has_firmware()) {
      platform_workload_ = true;
      firmware_ = true;
      has_disks_ = true;
      check_firmware(w.child("firmware"));
      return;
    }
    platform_workload_ = c_.workload().multiboot().pc();
    Node mb = w.child("multiboot");
    pb::MultibootBoot* boot = c_.mutable_workload()->mutable_multiboot();
    if (boot->kernel().empty()) {
      error(mb.written("kernel") ? mb.at("kernel") : mb.loc, "workload.multiboot.kernel: missing kernel path");
    } else if (auto path = resolve(mb, "kernel", -1, boot->kernel())) {
      check_kernel(mb.at("kernel"), *path);
      kernel_path = *path;
      boot->set_kernel(*path);
    }
    for (int i = 0; i < boot->modules_size(); ++i) {
      Node mod = mb.child("modules", i);
      if (auto path = resolve(mod, "path", -1, boot->modules(i).path())) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(*path, ec))
          error(mod.at("path"), mod.name_of("path") + ": " + *path + ": no such file");
        else
          boot->mutable_modules(i)->set_path(*path);
      }
    }
  }

  // A path that must name an existing regular file.
  std::optional<std::string> existing_file(const Node& n, const char* field, int index, const std::string& raw) {
    auto path = resolve(n, field, index, raw);
    if (!path) return std::nullopt;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*path, ec)) {
      error(n.at(field, index), n.name_of(field, index) + ": " + *path + ": no such file");
      return std::nullopt;
    }
    return path;
  }

  void check_linux(const Node& l) {
    pb::LinuxBoot* boot = c_.mutable_workload()->mutable_linux();
    if (boot->kernel().empty()) {
      error(l.written("kernel") ? l.at("kernel") : l.loc, "workload.linux.kernel: missing kernel path (a bzImage)");
    } else if (auto path = existing_file(l, "kernel", -1, boot->kernel())) {
      check_bzimage(l.at("kernel"), *path);
      kernel_path = *path;
      boot->set_kernel(*path);
    }
    if (l.written("initrd"))
      if (auto path = existing_file(l, "initrd", -1, boot->initrd())) boot->set_initrd(*path);
    check_disks(l, *boot->mutable_disks());
  }

  // Up to 4 IDE disk images that must exist; resolved in place.
  void check_disks(const Node& n, google::protobuf::RepeatedPtrField<std::string>& disks) {
    if (disks.size() > 4)
      error(n.at("disks", 4), n.name_of("disks", 4) + ": at most 4 disks (IDE primary master/slave, secondary "
                                                       "master/slave)");
    for (int i = 0; i < disks.size() && i < 4; ++i)
      if (auto path = existing_file(n, "disks", i, disks.Get(i))) *disks.Mutable(i) = *path;
  }

  void check_firmware(const Node& f) {
    pb::FirmwareBoot* boot = c_.mutable_workload()->mutable_firmware();
    if (boot->bios().empty()) boot->set_bios(kDefaultBios);
    if (auto path = existing_file(f, "bios", -1, boot->bios())) {
      try {
        (void)Firmware::load_image(*path);
        kernel_path = *path;
        boot->set_bios(*path);
      } catch (const std::exception& e) {
        error(f.written("bios") ? f.at("bios") : f.loc, f.name_of("bios") + ": " + e.what());
      }
    }
    if (boot->vga_bios().empty()) boot->set_vga_bios(kDefaultVgaBios);
    if (boot->vga_bios() != "none")
      if (auto path = existing_file(f, "vga_bios", -1, boot->vga_bios())) {
        try {
          (void)Firmware::load_option_rom(*path);
          boot->set_vga_bios(*path);
        } catch (const std::exception& e) {
          error(f.written("vga_bios") ? f.at("vga_bios") : f.loc, f.name_of("vga_bios") + ": " + e.what());
        }
      }
    check_disks(f, *boot->mutable_disks());
  }

  // The Linux/x86 boot protocol header: boot flag 0xAA55 at 0x1FE, "HdrS"
  // at 0x202, protocol version at 0x206 (2.06 or later).
  void check_bzimage(Loc at, const std::string& path) {
    const std::string what = "workload.linux.kernel: " + path + ": ";
    std::ifstream in(path, std::ios::binary);
    unsigned char h[0x210] = {};
    in.read(reinterpret_cast<char*>(h), sizeof h);
    if (in.gcount() < static_cast<std::streamsize>(sizeof h)) {
      error(at, what + "too short for a Linux kernel image");
      return;
    }
    if (h[0x1FE] != 0x55 || h[0x1FF] != 0xAA || std::memcmp(h + 0x202, "HdrS", 4) != 0) {
      error(at, what + "not a bzImage (no boot flag 0xAA55 and \"HdrS\" setup header)");
      return;
    }
    const unsigned version = h[0x206] | (h[0x207] << 8);
    if (version < 0x0206)
      error(at, what + "boot protocol " + std::to_string(version >> 8) + "." + std::to_string(version & 0xFF) +
                    " is older than 2.06");
  }

  void check_kernel(Loc at, const std::string& path) {
    const std::string what = "workload.multiboot.kernel: ";
    ElfImage img;
    try {
      img = load_elf_image(path);
    } catch (const std::exception& e) {
      error(at, what + e.what());
      return;
    }
    // Multiboot v1 header: magic, flags, checksum, 4-aligned in the first 8 KiB.
    bool found = false;
    size_t search = std::min<size_t>(img.file.size(), 8192);
    for (size_t off = 0; off + 12 <= search && !found; off += 4) {
      uint32_t w[3];
      std::memcpy(w, img.file.data() + off, sizeof w);
      found = w[0] == 0x1BADB002u && uint32_t(w[0] + w[1] + w[2]) == 0;
    }
    if (!found) {
      error(at, what + path + ": not a multiboot kernel (no header with magic 0x1BADB002 in the first 8 KiB)");
      return;
    }
    for (const ElfSegment& s : img.segments)
      if (s.mem_size && uint64_t(s.paddr) + s.mem_size > ram_bytes()) {
        error(at, what + path + ": segment at " + hex(s.paddr) + " (" + std::to_string(s.mem_size) +
                      " bytes) does not fit in " + std::to_string(ram_bytes() >> 20) +
                      " MiB of RAM (raise machine.memory_mib)");
        return;
      }
    elf_ = std::move(img);
  }

  void check_end() {
    if (!c_.has_end()) return;
    Node e = root_.child("end");
    const pb::EndCondition& end = c_.end();
    if (e.written("max_instructions") && end.max_instructions() == 0)
      error(e.at("max_instructions"), "end.max_instructions: must be at least 1 (omit for the default 2e9)");
    if (e.written("timeout_factor") && !(end.timeout_factor() >= 1.0 && std::isfinite(end.timeout_factor()))) {
      std::ostringstream o;
      o << end.timeout_factor();
      error(e.at("timeout_factor"), "end.timeout_factor: " + o.str() +
                                        " is less than 1 (a run would time out before the golden run ends)");
    }
    for (int i = 0; i < end.end_patterns_size(); ++i) check_regex(e, "end_patterns", i, end.end_patterns(i));
  }

  void check_script() {
    int injects = 0;
    bool ended = false;
    for (int i = 0; i < c_.script_size(); ++i) {
      Node s = root_.child("script", i);
      const pb::Step& st = c_.script(i);
      std::string what = s.path;
      if (ended) {
        error(s.loc, what + ": step after an `end` step is never run");
        ended = false;  // report once
      }
      switch (st.action_case()) {
        case pb::Step::ACTION_NOT_SET: error(s.loc, what + ": empty step (no action)"); break;
        case pb::Step::kWaitFor:
        case pb::Step::kExpect: {
          const char* f = st.has_wait_for() ? "wait_for" : "expect";
          Node w = s.child(f);
          const pb::WaitFor& wf = st.has_wait_for() ? st.wait_for() : st.expect();
          check_regex(w, "pattern", -1, wf.pattern());
          if (wf.source() != pb::WaitFor::CONSOLE && !platform_workload_)
            error(w.at("source"), w.name_of("source") + ": " + pb::WaitFor::Source_Name(wf.source()) +
                                      " needs the PC platform: the bare multiboot machine has only the debug "
                                      "console (use CONSOLE, or `multiboot { pc: true }`)");
          break;
        }
        case pb::Step::kTypeKeys:
          if (!platform_workload_)
            error(s.at("type_keys"), what + ".type_keys: needs the PC platform's keyboard: the bare multiboot "
                                            "machine has none (set `multiboot { pc: true }` or use a linux workload)");
          break;
        case pb::Step::kSerialInput:
          if (!platform_workload_)
            error(s.at("serial_input"), what + ".serial_input: needs the PC platform's COM1: the bare multiboot "
                                               "machine has none (set `multiboot { pc: true }` or use a linux "
                                               "workload)");
          break;
        case pb::Step::kWaitNs:
          if (st.wait_ns() == 0) error(s.at("wait_ns"), what + ".wait_ns: must be at least 1");
          break;
        case pb::Step::kInject:
          if (!st.inject()) error(s.at("inject"), what + ".inject: `inject: false` does nothing; remove the step");
          else if (++injects == 2)
            error(s.at("inject"), what + ".inject: more than one inject step (an experiment injects one fault)");
          break;
        case pb::Step::kEnd:
          if (!st.end()) error(s.at("end"), what + ".end: `end: false` does nothing; remove the step");
          else ended = true;
          break;
      }
    }
    script_injects_ = injects > 0;
  }

  void check_sampling() {
    if (!c_.has_sampling() || c_.sampling().mode_case() == pb::Sampling::MODE_NOT_SET) {
      error(c_.has_sampling() ? root_.at("sampling") : Loc{},
            "sampling: missing mode (set `full: true` or `samples: N`)");
      return;
    }
    Node s = root_.child("sampling");
    if (c_.sampling().has_full() && !c_.sampling().full())
      error(s.at("full"), "sampling.full: `full: false` selects nothing (use `full: true` or `samples: N`)");
    if (c_.sampling().has_samples() && c_.sampling().samples() == 0)
      error(s.at("samples"), "sampling.samples: must be at least 1");
  }

  void check_classification() {
    if (!c_.has_classification()) return;
    Node n = root_.child("classification");
    const pb::Classification& cl = c_.classification();
    for (int i = 0; i < cl.detected_patterns_size(); ++i)
      check_regex(n, "detected_patterns", i, cl.detected_patterns(i));
    for (int i = 0; i < cl.crash_patterns_size(); ++i) check_regex(n, "crash_patterns", i, cl.crash_patterns(i));
    std::set<uint32_t> detected;
    for (int i = 0; i < cl.detected_exit_statuses_size(); ++i) {
      uint32_t v = cl.detected_exit_statuses(i);
      if (v == 0)
        error(n.at("detected_exit_statuses", i),
              n.name_of("detected_exit_statuses", i) + ": exit status 0 is a pass, it cannot mean detected");
      detected.insert(v);
    }
    for (int i = 0; i < cl.crash_exit_statuses_size(); ++i) {
      uint32_t v = cl.crash_exit_statuses(i);
      if (v == 0)
        error(n.at("crash_exit_statuses", i),
              n.name_of("crash_exit_statuses", i) + ": exit status 0 is a pass, it cannot mean crash");
      else if (detected.count(v))
        error(n.at("crash_exit_statuses", i), n.name_of("crash_exit_statuses", i) + ": exit status " +
                                                  std::to_string(v) + " is also listed in detected_exit_statuses");
    }
  }

  void check_symbol_name(Loc at, const std::string& what, const std::string& name, const ElfSymbol** out) {
    *out = nullptr;
    if (name.empty()) {
      error(at, what + ": empty symbol name");
      return;
    }
    if (linux_ || firmware_) {
      error(at, what + ": symbol '" + name + "': a " + (linux_ ? "linux workload's bzImage" : "firmware workload") +
                    " has no ELF symbols (use physical addresses)");
      return;
    }
    if (!elf_) return;  // kernel already reported
    for (const ElfSymbol& s : elf_->symbols_list)
      if (s.name == name) {
        *out = &s;
        return;
      }
    error(at, what + ": unknown symbol '" + name + "' in " + elf_->path + suggestion(*elf_, name));
  }

  // Checks an [start, end) range of addresses against `limit` bytes.
  void check_addr_range(const Node& n, const pb::AddressRange& r, uint64_t limit, const char* limit_what) {
    if (r.end() <= r.start())
      error(n.loc, n.path + ": empty range (end " + hex(r.end()) + " <= start " + hex(r.start()) + ")");
    else if (r.end() > limit)
      error(n.loc, n.path + ": range [" + hex(r.start()) + ", " + hex(r.end()) + ") is beyond " + limit_what +
                       " (" + hex(limit) + " bytes)");
  }

  // Trigger Range: end exclusive, 0 = end of golden run; step >= 1.
  void check_range(const Node& n, bool occurrences) {
    const auto& r = static_cast<const pb::Range&>(*n.msg);
    if (occurrences && r.start() == 0)
      error(n.written("start") ? n.at("start") : n.loc,
            n.name_of("start") + ": occurrences count from 1 (the first occurrence is 1)");
    if (r.end() != 0 && r.end() <= r.start())
      error(n.at("end"), n.path + ": empty range (end " + std::to_string(r.end()) + " <= start " +
                             std::to_string(r.start()) + "; end 0 means the end of the golden run)");
    if (n.written("step") && r.step() == 0)
      error(n.at("step"), n.name_of("step") + ": must be at least 1 (omit for 1)");
  }

  // Returns the target's width in bits (0 if unknown) for model checks.
  unsigned check_target(const Node& g, const pb::FaultGroup& grp, bool& is_register, bool& is_device,
                        bool& modelless) {
    is_register = false;
    is_device = false;
    modelless = false;
    if (!grp.has_target() || grp.target().kind_case() == pb::TargetSpace::KIND_NOT_SET) {
      error(grp.has_target() ? g.at("target") : g.loc,
            g.name_of("target") +
                ": missing (set `memory { ... }`, `registers { ... }`, `disk { ... }`, "
                "`device { ... }`, `serial { ... }` or `irq { ... }`)");
      return 0;
    }
    Node t = g.child("target");
    const pb::TargetSpace& ts = grp.target();
    if (ts.has_registers()) {
      is_register = true;
      Node r = t.child("registers");
      if (ts.registers().names_size() == 0) {
        error(r.loc, r.name_of("names") + ": no register names");
        return 0;
      }
      unsigned bits = 64;
      std::set<std::string> seen;
      for (int i = 0; i < ts.registers().names_size(); ++i) {
        const std::string& name = ts.registers().names(i);
        unsigned b = register_bits(name);
        if (b == 0) {
          std::string list;
          for (const std::string& v : register_names()) list += (list.empty() ? "" : " ") + v;
          error(r.at("names", i), r.name_of("names", i) + ": unknown register '" + name + "' (valid: " + list + ")");
          continue;
        }
        std::string lower = name;
        for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
        if (!seen.insert(lower).second)
          error(r.at("names", i), r.name_of("names", i) + ": register '" + name + "' listed twice");
        bits = std::min(bits, b);
      }
      return bits;
    }
    if (ts.has_disk()) {
      Node d = t.child("disk");
      const pb::DiskSpace& ds = ts.disk();
      if (!has_disks_)
        error(t.at("disk"), t.name_of("disk") + ": disk faults need the IDE disks of a linux or firmware workload "
                                                "(`workload { linux { disks: ... } }`)");
      if (ds.drive() > 3)
        error(d.at("drive"),
              d.name_of("drive") + ": " + std::to_string(ds.drive()) +
                  " is not an IDE drive (0 primary master, 1 primary slave, 2 secondary master, "
                  "3 secondary slave)");
      uint32_t w = ds.width();
      const bool corrupt = ds.kind() == pb::DISK_CORRUPT_READ;
      if (d.written("width") && w != 1 && w != 2 && w != 4)
        error(d.at("width"), d.name_of("width") + ": " + std::to_string(w) + " is not 1, 2 or 4");
      if (!corrupt && d.written("width"))
        error(d.at("width"), d.name_of("width") + ": only read corruption has cells (kind is " +
                                 pb::DiskFaultKind_Name(ds.kind()) + ")");
      if (!corrupt && ds.has_bytes())
        error(d.at("bytes"), d.name_of("bytes") + ": only read corruption has byte offsets (kind is " +
                                 pb::DiskFaultKind_Name(ds.kind()) + ")");
      if (!ds.has_sectors())
        error(d.loc, d.name_of("sectors") + ": missing sector range");
      else if (ds.sectors().end() <= ds.sectors().start())
        error(d.at("sectors"), d.name_of("sectors") + ": empty range (end " +
                                   std::to_string(ds.sectors().end()) + " <= start " +
                                   std::to_string(ds.sectors().start()) + ")");
      if (ds.has_bytes()) {
        const uint32_t cw = (w == 1 || w == 2 || w == 4) ? w : 1;
        if (ds.bytes().end() > 512 || ds.bytes().end() <= ds.bytes().start() ||
            ds.bytes().end() - ds.bytes().start() < cw)
          error(d.at("bytes"), d.name_of("bytes") + ": [" + std::to_string(ds.bytes().start()) + ", " +
                                   std::to_string(ds.bytes().end()) + ") is not a range of at least one " +
                                   std::to_string(cw) + "-byte cell inside a 512-byte sector");
      }
      modelless = !corrupt;
      return (w == 1 || w == 2 || w == 4 ? w : 1) * 8;
    }
    if ((ts.has_device() || ts.has_serial() || ts.has_irq()) && !platform_workload_)
      error(t.loc, t.path + ": device, serial and irq faults need the PC platform (a linux workload or "
                            "`multiboot { pc: true }`)");
    if (ts.has_device()) {
      is_device = true;
      Node d = t.child("device");
      if (ts.device().fields_size() == 0) {
        error(d.loc, d.name_of("fields") + ": no device fields");
        return 0;
      }
      if (device_catalog_.empty()) device_catalog_ = faults::default_pc_device_fields();
      unsigned bits = 64;
      std::set<std::string> seen;
      for (int i = 0; i < ts.device().fields_size(); ++i) {
        const std::string& name = ts.device().fields(i);
        auto m = faults::match_device_fields(device_catalog_, name);
        if (m.empty()) {
          error(d.at("fields", i), d.name_of("fields", i) + ": unknown device field '" + name + "'" +
                                       faults::device_field_suggestion(device_catalog_, name));
          continue;
        }
        if (!seen.insert(name).second)
          error(d.at("fields", i), d.name_of("fields", i) + ": field '" + name + "' listed twice");
        for (const auto& f : m) bits = std::min(bits, f.bits);
      }
      return bits == 64 ? 0 : bits;
    }
    if (ts.has_serial()) {
      Node sn = t.child("serial");
      if (ts.serial().com() < 1 || ts.serial().com() > 4)
        error(sn.written("com") ? sn.at("com") : sn.loc,
              sn.name_of("com") + ": " + std::to_string(ts.serial().com()) + " is not a COM port (1..4)");
      modelless = ts.serial().action() == pb::SERIAL_DROP;
      return 8;
    }
    if (ts.has_irq()) {
      Node in = t.child("irq");
      modelless = true;
      if (ts.irq().lines_size() == 0) error(in.loc, in.name_of("lines") + ": no interrupt lines");
      std::set<uint32_t> seen;
      for (int i = 0; i < ts.irq().lines_size(); ++i) {
        uint32_t l = ts.irq().lines(i);
        if (l > 15)
          error(in.at("lines", i),
                in.name_of("lines", i) + ": " + std::to_string(l) + " is not an ISA interrupt line (0..15)");
        else if (!seen.insert(l).second)
          error(in.at("lines", i), in.name_of("lines", i) + ": line " + std::to_string(l) + " listed twice");
      }
      if (ts.irq().kind() == pb::IRQ_SPURIOUS && grp.has_duration() &&
          (grp.duration().has_permanent() ||
           grp.duration().kind_case() == pb::Duration::kIntermittentInstructions))
        error(g.at("duration"), g.name_of("duration") +
                                    ": spurious interrupts are transient only (one pulse at "
                                    "the trigger)");
      return 0;
    }
    Node m = t.child("memory");
    const pb::MemorySpace& ms = ts.memory();
    uint32_t w = ms.width();
    if (m.written("width") && w != 1 && w != 2 && w != 4) {
      error(m.at("width"), m.name_of("width") + ": " + std::to_string(w) + " is not 1, 2 or 4");
      w = 0;
    } else if (w == 0) {
      w = 1;
    }
    switch (ms.where_case()) {
      case pb::MemorySpace::WHERE_NOT_SET:
        error(m.loc, m.path + ": missing address space (set `physical`, `virtual` or `symbol`)");
        break;
      case pb::MemorySpace::kPhysical:
        check_addr_range(m.child("physical"), ms.physical(), ram_bytes(),
                         ("guest RAM of " + std::to_string(ram_bytes() >> 20) + " MiB").c_str());
        break;
      case pb::MemorySpace::kVirtual:
        check_addr_range(m.child("virtual"), ms.virtual_(), k4GiB, "the 4 GiB virtual address space");
        break;
      case pb::MemorySpace::kSymbol: {
        const ElfSymbol* sym = nullptr;
        check_symbol_name(m.at("symbol"), m.name_of("symbol"), ms.symbol(), &sym);
        if (sym && sym->size == 0)
          error(m.at("symbol"), m.name_of("symbol") + ": symbol '" + sym->name +
                                    "' has size 0 (use a physical range instead)");
        else if (sym && w && sym->size % w)
          warning(m.at("symbol"), m.name_of("symbol") + ": size of '" + sym->name + "' (" +
                                      std::to_string(sym->size) + ") is not a multiple of width " + std::to_string(w));
        break;
      }
    }
    return w * 8;
  }

  void check_trigger(const Node& g, const pb::FaultGroup& grp) {
    if (script_injects_) {
      if (grp.has_trigger())
        error(g.at("trigger"), g.name_of("trigger") + ": not allowed when the script has an `inject` step "
                                                      "(the fault is injected at that step)");
      return;
    }
    if (!grp.has_trigger() || grp.trigger().kind_case() == pb::TriggerSpace::KIND_NOT_SET) {
      error(grp.has_trigger() ? g.at("trigger") : g.loc,
            g.name_of("trigger") + ": missing (set `instructions`, `time_ns`, `pc`, `memory_access`, `port` "
                                   "or `output`, or inject from a script step)");
      return;
    }
    Node t = g.child("trigger");
    const pb::TriggerSpace& ts = grp.trigger();
    auto occ = [&](const Node& parent, bool has) {
      if (has) check_range(parent.child("occurrences"), true);
    };
    switch (ts.kind_case()) {
      case pb::TriggerSpace::kInstructions: check_range(t.child("instructions"), false); break;
      case pb::TriggerSpace::kTimeNs: check_range(t.child("time_ns"), false); break;
      case pb::TriggerSpace::kPc: {
        Node p = t.child("pc");
        if (ts.pc().at_case() == pb::PcTrigger::AT_NOT_SET)
          error(p.loc, p.path + ": missing `address` or `symbol`");
        else if (ts.pc().has_address() && ts.pc().address() >= k4GiB)
          error(p.at("address"), p.name_of("address") + ": " + hex(ts.pc().address()) + " is beyond 4 GiB");
        else if (ts.pc().has_symbol()) {
          const ElfSymbol* sym = nullptr;
          check_symbol_name(p.at("symbol"), p.name_of("symbol"), ts.pc().symbol(), &sym);
        }
        occ(p, ts.pc().has_occurrences());
        break;
      }
      case pb::TriggerSpace::kMemoryAccess: {
        Node a = t.child("memory_access");
        const auto& ma = ts.memory_access();
        if (!ma.has_range())
          error(a.loc, a.name_of("range") + ": missing address range");
        else
          check_addr_range(a.child("range"), ma.range(), ram_bytes(),
                           ("guest RAM of " + std::to_string(ram_bytes() >> 20) + " MiB").c_str());
        if (!ma.on_read() && !ma.on_write())
          error(a.loc, a.path + ": neither on_read nor on_write is set (the trigger would never fire)");
        occ(a, ma.has_occurrences());
        break;
      }
      case pb::TriggerSpace::kPort: {
        Node p = t.child("port");
        if (ts.port().port() > 0xFFFF)
          error(p.at("port"), p.name_of("port") + ": " + hex(ts.port().port()) + " is not an I/O port (0..0xffff)");
        if (!ts.port().on_read() && !ts.port().on_write())
          error(p.loc, p.path + ": neither on_read nor on_write is set (the trigger would never fire)");
        occ(p, ts.port().has_occurrences());
        break;
      }
      case pb::TriggerSpace::kOutput: {
        Node o = t.child("output");
        check_regex(o, "pattern", -1, ts.output().pattern());
        occ(o, ts.output().has_occurrences());
        break;
      }
      default: break;
    }
  }

  void check_group(const Node& g) {
    const auto& grp = static_cast<const pb::FaultGroup&>(*g.msg);
    bool is_register = false, is_device = false, modelless = false;
    unsigned bits = check_target(g, grp, is_register, is_device, modelless);
    // model
    if (modelless) {
      if (grp.has_model())
        error(g.at("model"), g.name_of("model") + ": contradictory: this target (" + modelless_what(grp) +
                                 ") has no value a model could corrupt; remove the model");
    } else if (!grp.has_model() || grp.model().kind_case() == pb::Model::KIND_NOT_SET) {
      error(grp.has_model() ? g.at("model") : g.loc,
            g.name_of("model") + ": missing (set `bit_flip`, `stuck_at`, `set_value` or `random_value`)");
    } else {
      Node m = g.child("model");
      const pb::Model& md = grp.model();
      if (md.has_bit_flip()) {
        Node b = m.child("bit_flip");
        uint32_t n = md.bit_flip().bits();
        if (b.written("bits") && n == 0)
          error(b.at("bits"), b.name_of("bits") + ": must be at least 1 (omit for 1)");
        else if (bits && n > bits)
          error(b.at("bits"), b.name_of("bits") + ": " + std::to_string(n) + " bits do not fit a " +
                                  std::to_string(bits) + "-bit target");
      } else if (md.has_stuck_at()) {
        Node s = m.child("stuck_at");
        if (md.stuck_at().value() > 1)
          error(s.at("value"), s.name_of("value") + ": " + std::to_string(md.stuck_at().value()) +
                                   " is not a bit value (0 or 1)");
      } else if (md.has_set_value()) {
        Node s = m.child("set_value");
        uint64_t v = md.set_value().value();
        if (bits && bits < 64 && (v >> bits) != 0)
          error(s.at("value"), s.name_of("value") + ": " + hex(v) + " does not fit a " + std::to_string(bits) +
                                   "-bit target");
      }
    }
    if (grp.bit_mask() != 0) {
      const uint64_t mask = grp.bit_mask();
      const unsigned n = static_cast<unsigned>(__builtin_popcountll(mask));
      if (modelless)
        error(g.at("bit_mask"), g.name_of("bit_mask") + ": this target (" + modelless_what(grp) +
                                    ") has no value to mask; remove bit_mask");
      else if (bits && bits < 64 && (mask >> bits) != 0)
        error(g.at("bit_mask"), g.name_of("bit_mask") + ": " + hex(mask) + " does not fit a " +
                                    std::to_string(bits) + "-bit target");
      else if (grp.model().has_bit_flip() && g.child("model").child("bit_flip").written("bits") &&
               grp.model().bit_flip().bits() != n)
        error(g.child("model").child("bit_flip").at("bits"),
              g.child("model").child("bit_flip").name_of("bits") + ": " +
                  std::to_string(grp.model().bit_flip().bits()) + " contradicts bit_mask " + hex(mask) + " (" +
                  std::to_string(n) + " bits); omit `bits` with a bit_mask");
    }
    check_trigger(g, grp);
    // duration
    if (grp.has_duration()) {
      Node d = g.child("duration");
      const pb::Duration& du = grp.duration();
      switch (du.kind_case()) {
        case pb::Duration::kTransient:
          if (!du.transient())
            error(d.at("transient"), d.name_of("transient") + ": `transient: false` means nothing (use "
                                                              "`intermittent_instructions` or `permanent`)");
          break;
        case pb::Duration::kIntermittentInstructions:
          if (du.intermittent_instructions() == 0)
            error(d.at("intermittent_instructions"),
                  d.name_of("intermittent_instructions") + ": the window must be at least 1 instruction");
          break;
        case pb::Duration::kPermanent:
          if (!du.permanent())
            error(d.at("permanent"), d.name_of("permanent") + ": `permanent: false` means nothing (omit the "
                                                              "duration for a transient fault)");
          else if (is_register)
            error(d.at("permanent"), d.name_of("permanent") + ": permanent register faults are not supported "
                                                              "(use transient or intermittent_instructions)");
          else if (is_device)
            error(d.at("permanent"), d.name_of("permanent") +
                                         ": permanent device register faults are not "
                                         "supported (use transient or intermittent_instructions)");
          break;
        default: break;
      }
    }
  }
};

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot read experiment file: " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw std::runtime_error(file.string() + ": error reading experiment file");
  return s.str();
}

}  // namespace

std::string Diagnostic::format(const char* severity) const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + severity + ": " + message;
}

static std::string join_diags(const std::vector<Diagnostic>& d) {
  std::string s;
  for (const Diagnostic& x : d) {
    if (!s.empty()) s += "\n";
    s += x.format();
  }
  return s;
}

CampaignError::CampaignError(std::vector<Diagnostic> diags)
    : std::runtime_error(join_diags(diags)), diagnostics(std::move(diags)) {}

const std::vector<std::string>& register_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const RegInfo& r : kRegisters) v.push_back(r.name);
    return v;
  }();
  return names;
}

unsigned register_bits(const std::string& name) {
  std::string l = name;
  for (char& ch : l) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  for (const RegInfo& r : kRegisters)
    if (l == r.name) return r.bits;
  return 0;
}

std::string expand_vars(const std::string& s, const LoaderVars& vars) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      size_t close = s.find('}', i + 2);
      if (close == std::string::npos) throw std::runtime_error("unterminated ${ in \"" + s + "\"");
      std::string name = s.substr(i + 2, close - i - 2);
      if (name.empty()) throw std::runtime_error("empty variable name ${} in \"" + s + "\"");
      if (const char* env = std::getenv(name.c_str())) {
        out += env;
      } else if (auto it = vars.find(name); it != vars.end()) {
        out += it->second;
      } else {
        throw std::runtime_error("undefined variable ${" + name + "} (set it in the environment)");
      }
      i = close + 1;
    } else {
      out += s[i++];
    }
  }
  return out;
}

LoadedCampaign load_campaign_text(const std::string& text, const std::filesystem::path& file_for_messages,
                                  const LoaderVars& vars) {
  const std::string fname = file_for_messages.string();
  LoadedCampaign out;
  out.file = file_for_messages;
  out.base_dir = file_for_messages.empty()
                     ? std::filesystem::current_path()
                     : std::filesystem::absolute(file_for_messages).parent_path().lexically_normal();
  out.text = text;

  // Syntax: parse, and after a recoverable error blank that statement and
  // parse again to find the next error.
  std::vector<Diagnostic> syntax;
  std::string work = text;
  TF::ParseInfoTree tree;
  bool parsed = false;
  for (int attempt = 0; attempt < 100; ++attempt) {
    Collector col;
    TF::Parser parser;
    parser.RecordErrorsTo(&col);
    TF::ParseInfoTree t;
    parser.WriteLocationsTo(attempt == 0 ? &tree : &t);
    pb::Campaign msg;
    if (parser.ParseFromString(work, &msg) && col.errors.empty()) {
      if (syntax.empty()) {
        out.campaign = std::move(msg);
        parsed = true;
      }
      break;
    }
    if (col.errors.empty()) col.errors.push_back({0, 0, "cannot parse the file"});
    for (const RawError& e : col.errors) {
      std::string msg = e.message;
      if (msg.size() >= 5 && msg.compare(msg.size() - 5, 5, "got: ") == 0)
        msg += "end of file (a closing \"}\" is missing?)";
      syntax.push_back({fname, std::max(e.line, 0) + 1, std::max(adjust_column(work, e), 0) + 1, msg});
    }
    const RawError& last = col.errors.back();
    if (!recoverable(last.message) || last.line < 0 || !blank_statement(work, last.line)) break;
  }
  if (!parsed) {
    std::stable_sort(syntax.begin(), syntax.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    throw CampaignError(std::move(syntax));
  }

  Validator v(out.campaign, &tree, fname, out.base_dir, vars);
  v.run();
  if (!v.errors.empty()) throw CampaignError(std::move(v.errors));
  v.apply_defaults();
  out.kernel_path = v.kernel_path;
  out.warnings = std::move(v.warnings);
  return out;
}

LoadedCampaign load_campaign(const std::filesystem::path& file, const LoaderVars& vars) {
  return load_campaign_text(read_file(file), file, vars);
}

}  // namespace faultline::experiments
