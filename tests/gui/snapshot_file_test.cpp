// Snapshot files of GUI sessions (gui/snapshot_file.h): a saved session
// continues in a fresh Session exactly as the original does, keeps its
// injection history, and damaged files or changed inputs are refused with
// the file and the problem named.
#include <gtest/gtest.h>

#include <QCoreApplication>
#include <QFileInfo>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/cpu_state.h"
#include "experiments/campaign/sha256.h"
#include "gui/snapshot_file.h"
#include "gui/fault_panel.h"
#include "gui/main_window.h"
#include "gui/session.h"

namespace faultline::gui {
namespace {

namespace fs = std::filesystem;

const std::string kKeyboard = std::string(FAULTLINE_GUEST_DIR) + "/keyboard.elf";
const std::string kChecksum = std::string(FAULTLINE_GUEST_DIR) + "/checksum.elf";

// A fresh directory per test under the test temp dir.
std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("snapfile-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// What must continue identically after a load.
struct Observed {
  CpuState cpu;
  uint64_t ticks = 0, retired = 0;
  uint32_t eflags = 0;
  std::string console, serial, output, finish_reason;
  bool finished = false;
};

Observed run_and_observe(Session& s, uint64_t ticks) {
  const uint64_t end = s.cpu()->ticks() + ticks;
  while (!s.finished() && s.cpu()->ticks() < end) s.run_slice(end - s.cpu()->ticks());
  Observed o;
  o.cpu = s.cpu()->s;
  o.eflags = s.cpu()->eflags();
  o.ticks = s.cpu()->ticks();
  o.retired = s.retired();
  o.console = s.console_output();
  o.serial = s.serial_output();
  o.output = s.output();
  o.finished = s.finished();
  o.finish_reason = s.finish_reason();
  return o;
}

void expect_same(const Observed& a, const Observed& b) {
  EXPECT_EQ(a.ticks, b.ticks);
  EXPECT_EQ(a.retired, b.retired);
  EXPECT_EQ(a.console, b.console);
  EXPECT_EQ(a.serial, b.serial);
  EXPECT_EQ(a.output, b.output);  // merged console + COM1, as campaigns compare it
  EXPECT_EQ(a.finished, b.finished);
  EXPECT_EQ(a.finish_reason, b.finish_reason);
  for (int r = 0; r < 8; ++r) EXPECT_EQ(a.cpu.gpr[r], b.cpu.gpr[r]) << "register " << r;
  EXPECT_EQ(a.cpu.eip, b.cpu.eip);
  EXPECT_EQ(a.eflags, b.eflags);  // architectural (the file keeps no lazy-flag state)
  EXPECT_EQ(a.cpu.cr0, b.cpu.cr0);
  EXPECT_EQ(a.cpu.seg[CS].selector, b.cpu.seg[CS].selector);
}

// The message of the std::runtime_error loading `file` throws ("" if none).
std::string load_error(const std::string& file) {
  Session s;
  try {
    s.load_snapshot_file(file);
  } catch (const std::runtime_error& e) {
    EXPECT_FALSE(s.loaded()) << "a refused file must not leave a machine";
    return e.what();
  }
  return {};
}

// The keyboard kernel polls the i8042: keys typed before saving sit in the
// controller's queue (device state) and are read after the load, so the
// restored session echoes them and exits like the original.
TEST(GuiSnapshotFile, ContinuesLikeTheOriginalAfterLoadingIntoAFreshSession) {
  const std::string file = temp_dir("roundtrip") + "/keyboard.flsnap";
  Session s;
  s.load_multiboot(kKeyboard);
  for (int i = 0; i < 5; ++i) s.run_slice(20'000);
  ASSERT_FALSE(s.finished()) << s.finish_reason();
  // "snap " is read into the kernel's line buffer (guest RAM) before the
  // save, "file\n" is still queued in the controller at the save.
  ASSERT_TRUE(s.platform()->i8042().type_text("snap "));
  for (int i = 0; i < 5; ++i) s.run_slice(20'000);
  ASSERT_TRUE(s.platform()->i8042().type_text("file\n"));
  const uint64_t saved_ticks = s.cpu()->ticks();
  s.save_snapshot_file(file);
  EXPECT_EQ(std::distance(fs::directory_iterator(fs::path(file).parent_path()), fs::directory_iterator{}), 1)
      << "no temporary file left";
  const Observed original = run_and_observe(s, 3'000'000);
  ASSERT_TRUE(original.finished) << "the kernel should have echoed the line and exited";
  EXPECT_NE(original.console.find("typed: snap file"), std::string::npos) << original.console;

  Session restored;
  restored.load_snapshot_file(file);
  ASSERT_TRUE(restored.loaded());
  EXPECT_EQ(restored.kind(), GuestKind::Multiboot);
  EXPECT_EQ(restored.cpu()->ticks(), saved_ticks);
  ASSERT_NE(restored.symbols(), nullptr) << "the kernel's symbols come back with the rebuilt machine";
  expect_same(original, run_and_observe(restored, 3'000'000));
}

// COM1 output is device state (captured in memory) and continues after a
// load: a loop poked into the guest latches the PIT's counter and writes
// its low byte to COM1 and the debug console.
TEST(GuiSnapshotFile, SerialOutputAndTimerStateContinueAfterLoad) {
  const std::string file = temp_dir("serial") + "/serial.flsnap";
  Session s;
  s.load_multiboot(kChecksum);
  constexpr uint32_t kLoop = 0x10200;
  // clang-format off
  const std::vector<uint8_t> code = {
      0xB0, 0x00, 0xE6, 0x43,        // mov al, 0; out 0x43, al (latch counter 0)
      0xE4, 0x40,                    // in al, 0x40
      0x66, 0xBA, 0xF8, 0x03, 0xEE,  // mov dx, 0x3F8; out dx, al
      0xE6, 0xE9,                    // out 0xE9, al
      0xE4, 0x40,                    // in al, 0x40 (high byte)
      0xB9, 0xC8, 0x00, 0x00, 0x00,  // mov ecx, 200
      0xE2, 0xFE,                    // loop $
      0xEB, 0xE8};                   // jmp kLoop
  // clang-format on
  ASSERT_EQ(code.size(), 24u);
  std::copy(code.begin(), code.end(), s.machine()->memory().data() + kLoop);
  s.machine()->memory().mark_dirty_range(kLoop, code.size());
  s.cpu()->s.eip = kLoop;
  s.run_slice(200'000);
  const size_t serial_at_save = s.serial_output().size();
  ASSERT_GT(serial_at_save, 100u) << "the loop writes to COM1";
  s.save_snapshot_file(file);
  const Observed original = run_and_observe(s, 300'000);
  ASSERT_GT(original.serial.size(), serial_at_save);

  Session restored;
  restored.load_snapshot_file(file);
  EXPECT_EQ(restored.serial_output().size(), serial_at_save);
  EXPECT_GT(restored.output().size(), serial_at_save);  // console and COM1 bytes so far
  expect_same(original, run_and_observe(restored, 300'000));
}

TEST(GuiSnapshotFile, HandInjectionHistorySurvivesTheLoad) {
  const std::string file = temp_dir("history") + "/history.flsnap";
  Session s;
  s.load_multiboot(kChecksum);
  s.run_slice(1000);
  pb::Fault f;
  f.set_physical_address(0x300000);
  f.set_width(1);
  f.set_bit_mask(0x10);
  f.mutable_model()->mutable_bit_flip();
  const faults::InjectionRecord rec = s.inject_now(f);
  ASSERT_TRUE(rec.injected) << rec.detail;
  s.run_slice(1000);
  s.note_serial_input("ls\n");  // what export turns into script steps
  s.save_snapshot_file(file);

  Session restored;
  restored.load_snapshot_file(file);
  ASSERT_EQ(restored.serial_inputs().size(), 1u);
  EXPECT_EQ(restored.serial_inputs()[0].tick, s.serial_inputs()[0].tick);
  EXPECT_EQ(restored.serial_inputs()[0].bytes, "ls\n");
  ASSERT_EQ(restored.history().size(), 1u);
  const Session::HandInjection& h = restored.history().front();
  EXPECT_EQ(h.fault.physical_address(), 0x300000u);
  EXPECT_EQ(h.fault.bit_mask(), 0x10u);
  EXPECT_TRUE(h.fault.model().has_bit_flip());
  EXPECT_TRUE(h.record.injected);
  EXPECT_EQ(h.record.at_instruction, rec.at_instruction);
  EXPECT_EQ(h.record.at_time_ns, rec.at_time_ns);
  EXPECT_EQ(h.record.detail, rec.detail);
  EXPECT_EQ(h.record.value, rec.value);
  EXPECT_EQ(rec.value & 0x10, 0x10u);
  uint8_t byte = 0;
  ASSERT_TRUE(restored.cpu()->read_phys(0x300000, &byte, 1));
  EXPECT_EQ(byte, 0x10) << "the flipped bit is in the restored RAM";
}

TEST(GuiSnapshotFile, RefusedWhileATriggerIsArmedOrWithoutAMachine) {
  const std::string file = temp_dir("refuse") + "/armed.flsnap";
  Session s;
  s.load_multiboot(kChecksum);
  pb::Fault f;
  f.set_register_name("ebx");
  f.set_bit_mask(1);
  f.mutable_model()->mutable_bit_flip();
  f.mutable_trigger()->mutable_output()->set_pattern("never printed");
  s.arm(f);
  ASSERT_TRUE(s.trigger_pending());
  EXPECT_THROW(s.save_snapshot_file(file), std::logic_error);
  EXPECT_FALSE(fs::exists(file));
  s.disarm();
  s.save_snapshot_file(file);
  EXPECT_TRUE(fs::exists(file));
  Session none;
  EXPECT_THROW(none.save_snapshot_file(file), std::logic_error);
}

// Damaged files: each refusal names the file and what is wrong, and a good
// file loads again afterwards (the atomic write left nothing half-done).
TEST(GuiSnapshotFile, CorruptFilesAreRefusedNamingTheFileAndTheProblem) {
  const std::string dir = temp_dir("corrupt");
  const std::string good = dir + "/good.flsnap";
  Session s;
  s.load_multiboot(kChecksum);
  s.run_slice(5000);
  s.save_snapshot_file(good);
  const std::string bytes = read_file(good);
  ASSERT_GT(bytes.size(), 4096u);

  // Writes `damaged` as `name`, loads it and expects `problem` and the
  // file's path in the error; returns the path.
  auto refused = [&dir](const std::string& name, const std::string& damaged, const std::string& problem) {
    const std::string file = dir + "/" + name;
    write_file(file, damaged);
    const std::string e = load_error(file);
    EXPECT_NE(e.find(file), std::string::npos) << e;
    EXPECT_NE(e.find(problem), std::string::npos) << name << ": " << e;
    return file;
  };
  refused("truncated.flsnap", bytes.substr(0, bytes.size() / 2), "truncated");
  refused("short.flsnap", bytes.substr(0, 20), "truncated");
  std::string damaged = bytes;
  damaged[damaged.size() / 2] ^= 0x01;
  const std::string flipped = refused("flipped.flsnap", damaged, "checksum mismatch");
  damaged = bytes;
  damaged[0] = 'X';
  refused("magic.flsnap", damaged, "bad magic");
  damaged = bytes;
  damaged[8] = 99;
  refused("version.flsnap", damaged, "unsupported snapshot format version 99");
  refused("trailing.flsnap", bytes + "x", "unexpected bytes after the snapshot's end");
  // A CPU state with a register missing (the file itself intact): refused.
  {
    SnapshotFileData snap = read_snapshot_file(good);
    pb::GuiSnapshot meta = snap.meta;
    meta.mutable_machine()->mutable_cpu()->mutable_gpr()->RemoveLast();
    const std::string bad = dir + "/cpu.flsnap";
    write_snapshot_file(bad, meta, nullptr, 0);
    const std::string e = load_error(bad);
    EXPECT_NE(e.find(bad + ": malformed CPU state in the snapshot: 7 general registers (expected 8)"),
              std::string::npos)
        << e;
  }
  const std::string missing = dir + "/missing.flsnap";
  const std::string e = load_error(missing);
  EXPECT_NE(e.find(missing), std::string::npos) << e;

  // A refused file leaves the session it was loaded into as it was.
  const uint64_t ticks = s.cpu()->ticks();
  EXPECT_THROW(s.load_snapshot_file(flipped), std::runtime_error);
  ASSERT_TRUE(s.loaded());
  EXPECT_EQ(s.cpu()->ticks(), ticks);
  EXPECT_EQ(load_error(good), "");
}

TEST(GuiSnapshotFile, RefusesWhenAnInputFileChanged) {
  const std::string dir = temp_dir("input");
  const std::string kernel = dir + "/kernel.elf";
  fs::copy_file(kChecksum, kernel);
  const std::string file = dir + "/k.flsnap";
  Session s;
  s.load_multiboot(kernel);
  s.run_slice(5000);
  s.save_snapshot_file(file);
  EXPECT_EQ(load_error(file), "");
  {
    std::ofstream out(kernel, std::ios::binary | std::ios::app);
    out << "changed";
  }
  std::string e = load_error(file);
  EXPECT_NE(e.find(file), std::string::npos) << e;
  EXPECT_NE(e.find("kernel file " + kernel), std::string::npos) << e;
  EXPECT_NE(e.find("changed since the snapshot was saved"), std::string::npos) << e;
  fs::remove(kernel);
  e = load_error(file);
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
}

// The window's slots: save, run on, load; the session is back at the saved
// tick with its fault log re-synced, and errors land in the status bar.
TEST(GuiSnapshotFile, MainWindowSavesAndLoadsThroughItsSlots) {
  const std::string file = temp_dir("window") + "/window.flsnap";
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(QString::fromStdString(kChecksum)));
  w.session().run_slice(3000);
  w.fault_panel()->set_register_target("esi");
  w.fault_panel()->set_bit(3);
  ASSERT_TRUE(w.fault_panel()->inject());
  const uint64_t ticks = w.session().cpu()->ticks();
  const uint32_t esi = w.session().cpu()->s.gpr[ESI];
  ASSERT_TRUE(w.save_snapshot_file(QString::fromStdString(file)));
  EXPECT_TRUE(w.status_text().contains("saved")) << w.status_text().toStdString();
  w.session().run_slice(50'000);
  w.fault_panel()->set_bit(4);
  ASSERT_TRUE(w.fault_panel()->inject());
  ASSERT_EQ(w.session().history().size(), 2u);

  MainWindow other;
  ASSERT_TRUE(other.load_snapshot_file(QString::fromStdString(file)));
  EXPECT_EQ(other.session().cpu()->ticks(), ticks);
  EXPECT_EQ(other.session().cpu()->s.gpr[ESI], esi);
  EXPECT_EQ(other.session().history().size(), 1u);
  EXPECT_TRUE(other.status_text().contains("loaded")) << other.status_text().toStdString();
  // The fault log counts the restored history as logged: polling for fired
  // triggers adds nothing, and the load is noted.
  const QString log = other.fault_panel()->log_text();
  EXPECT_TRUE(log.contains("window.flsnap loaded at tick")) << log.toStdString();
  other.fault_panel()->log_new_injections();
  EXPECT_EQ(other.fault_panel()->log_text(), log);
  // Back in the first window: one entry less than it had.
  ASSERT_TRUE(w.load_snapshot_file(QString::fromStdString(file)));
  EXPECT_EQ(w.session().history().size(), 1u);
  const QString log_w = w.fault_panel()->log_text();
  w.fault_panel()->log_new_injections();
  EXPECT_EQ(w.fault_panel()->log_text(), log_w);
  w.fault_panel()->set_bit(6);
  ASSERT_TRUE(w.fault_panel()->inject());
  EXPECT_TRUE(w.fault_panel()->log_text().contains("esi bit 6")) << w.fault_panel()->log_text().toStdString();
  EXPECT_EQ(w.session().history().size(), 2u);

  const QString bad = QString::fromStdString(temp_dir("window-bad") + "/none.flsnap");
  EXPECT_FALSE(other.load_snapshot_file(bad));
  EXPECT_TRUE(other.status_text().contains(bad)) << other.status_text().toStdString();
}

// Firmware sessions: a fork keeps the disk and BIOS (it used to rebuild a
// machine without them), and a snapshot file rebuilds the same PC.
TEST(GuiSnapshotFile, FirmwareSessionForksAndRoundTrips) {
  const std::string dir = temp_dir("firmware");
  const std::string disk = dir + "/blank.img";
  write_file(disk, std::string(1 << 20, '\0'));
  Session s;
  s.load_firmware(disk);
  for (int i = 0; i < 5; ++i) s.run_slice(1'000'000);
  ASSERT_FALSE(s.finished()) << s.finish_reason();

  std::unique_ptr<Session> copy = s.fork();
  ASSERT_TRUE(copy->loaded());
  EXPECT_EQ(copy->kind(), GuestKind::Firmware);
  const std::string file = dir + "/fw.flsnap";
  s.save_snapshot_file(file);
  Session restored;
  restored.load_snapshot_file(file);
  std::string text;
  for (int i = 0; i < 400 && text.find("No bootable device") == std::string::npos; ++i) {
    s.run_slice(1'000'000);
    copy->run_slice(1'000'000);
    restored.run_slice(1'000'000);
    text = s.platform()->vga()->text_screen();
  }
  ASSERT_NE(text.find("No bootable device"), std::string::npos) << text;
  EXPECT_EQ(copy->platform()->vga()->text_screen(), text);
  EXPECT_EQ(restored.platform()->vga()->text_screen(), text);
  EXPECT_EQ(copy->cpu()->ticks(), s.cpu()->ticks());
  EXPECT_EQ(restored.cpu()->ticks(), s.cpu()->ticks());
  EXPECT_EQ(restored.cpu()->s.eip, s.cpu()->s.eip);
}

// Every architectural field survives the file's CPU-state message.
TEST(GuiSnapshotFile, CpuStateRoundTripsFieldByField) {
  CpuState c;
  for (int i = 0; i < 8; ++i) c.gpr[i] = 0x11111111u * static_cast<uint32_t>(i + 1);
  c.eip = 0xC0101234;
  c.cpl = 3;
  for (int i = 0; i < 6; ++i)
    c.seg[i] = {static_cast<uint16_t>(0x10 + 8 * i), static_cast<uint16_t>(0xC093 + i),
                0x1000u * static_cast<uint32_t>(i), 0xFFFFFu + static_cast<uint32_t>(i), i % 2 == 0};
  c.gdtr = {0x00C00000, 0x7F};
  c.idtr = {0x00C01000, 0x7FF};
  c.ldtr = {0x28, 0x82, 0x2000, 0x37, true};
  c.tr = {0x30, 0x8B, 0x3000, 0x67, true};
  c.cr0 = 0x80050033;
  c.cr2 = 0xDEADB000;
  c.cr3 = 0x00123000;
  c.cr4 = 0x90;
  for (int i = 0; i < 8; ++i) c.dr[i] = 0x100u + static_cast<uint32_t>(i);
  for (int i = 0; i < 8; ++i) c.fpu.st[i] = 1.0L / (3.0L + i) - static_cast<long double>(i) * 1e300L;
  c.fpu.control = 0x0F7F;
  c.fpu.status = 0x3800;
  c.fpu.tag = 0x5A5A;
  c.fpu.last_opcode = 0x7FF;
  c.fpu.last_ip = 0x1234;
  c.fpu.last_cs = 0x8;
  c.fpu.last_dp = 0x5678;
  c.fpu.last_ds = 0x10;
  c.fpu.ferr_pending = true;
  c.tsc_offset = 0x123456789ull;
  c.msr_sysenter_cs = 0x8;
  c.msr_sysenter_esp = 0xC0FFEE;
  c.msr_sysenter_eip = 0xC0DE;
  c.msr_apic_base = 0xFEE00800;
  c.msr_misc_enable = 1;
  for (size_t i = 0; i < c.msr_mtrr_var.size(); ++i) c.msr_mtrr_var[i] = 0x1000 + i;
  for (size_t i = 0; i < c.msr_mtrr_fixed.size(); ++i) c.msr_mtrr_fixed[i] = 0x0606060606060606ull + i;
  c.msr_mtrr_def_type = 0xC06;
  c.msr_pat = 0x0007040600070406ull;
  c.a20_enabled = false;
  c.halted = true;
  c.inhibit_interrupts = true;
  pb::CpuState p;
  cpu_state_to_proto(c, 0x00200257, p);
  const CpuState d = cpu_state_from_proto(p, "x");
  for (int i = 0; i < 8; ++i) EXPECT_EQ(d.gpr[i], c.gpr[i]);
  EXPECT_EQ(d.eip, c.eip);
  EXPECT_EQ(d.eflags_bits, 0x00200257u);
  EXPECT_EQ(d.lf_op, LazyOp::None);
  EXPECT_EQ(d.cpl, 3);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(d.seg[i].selector, c.seg[i].selector);
    EXPECT_EQ(d.seg[i].attr, c.seg[i].attr);
    EXPECT_EQ(d.seg[i].base, c.seg[i].base);
    EXPECT_EQ(d.seg[i].limit, c.seg[i].limit);
    EXPECT_EQ(d.seg[i].valid, c.seg[i].valid);
  }
  EXPECT_EQ(d.gdtr.base, c.gdtr.base);
  EXPECT_EQ(d.idtr.limit, c.idtr.limit);
  EXPECT_EQ(d.ldtr.base, c.ldtr.base);
  EXPECT_TRUE(d.tr.valid);
  EXPECT_EQ(d.cr0, c.cr0);
  EXPECT_EQ(d.cr2, c.cr2);
  EXPECT_EQ(d.cr3, c.cr3);
  EXPECT_EQ(d.cr4, c.cr4);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(d.dr[i], c.dr[i]);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(d.fpu.st[i], c.fpu.st[i]) << "st register " << i;
  EXPECT_EQ(d.fpu.control, c.fpu.control);
  EXPECT_EQ(d.fpu.status, c.fpu.status);
  EXPECT_EQ(d.fpu.tag, c.fpu.tag);
  EXPECT_EQ(d.fpu.last_opcode, c.fpu.last_opcode);
  EXPECT_EQ(d.fpu.last_ip, c.fpu.last_ip);
  EXPECT_EQ(d.fpu.last_cs, c.fpu.last_cs);
  EXPECT_EQ(d.fpu.last_dp, c.fpu.last_dp);
  EXPECT_EQ(d.fpu.last_ds, c.fpu.last_ds);
  EXPECT_TRUE(d.fpu.ferr_pending);
  EXPECT_EQ(d.tsc_offset, c.tsc_offset);
  EXPECT_EQ(d.msr_sysenter_esp, c.msr_sysenter_esp);
  EXPECT_EQ(d.msr_sysenter_eip, c.msr_sysenter_eip);
  EXPECT_EQ(d.msr_apic_base, c.msr_apic_base);
  EXPECT_EQ(d.msr_misc_enable, c.msr_misc_enable);
  EXPECT_EQ(d.msr_mtrr_var, c.msr_mtrr_var);
  EXPECT_EQ(d.msr_mtrr_fixed, c.msr_mtrr_fixed);
  EXPECT_EQ(d.msr_mtrr_def_type, c.msr_mtrr_def_type);
  EXPECT_EQ(d.msr_pat, c.msr_pat);
  EXPECT_FALSE(d.a20_enabled);
  EXPECT_TRUE(d.halted);
  EXPECT_TRUE(d.inhibit_interrupts);
}

}  // namespace
}  // namespace faultline::gui
