// Hand-made faults from the fault panel and their export: the exported
// experiment file, run through the campaign API (what `faultline campaign
// run` does; two tests also run the real command line), must reproduce the
// run done in the GUI (same output digest, and a non-benign outcome for a
// fault that changed it).
#include <QApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QThread>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "experiments/campaign/driver.h"
#include "experiments/campaign/sha256.h"
#include "experiments/loader/campaign_loader.h"
#include "experiments/store/store.h"
#include "gui/fault_panel.h"
#include "gui/main_window.h"

namespace faultline::gui {
namespace {

namespace fs = std::filesystem;
const QString kChecksum = QString::fromStdString(std::string(FAULTLINE_GUEST_DIR) + "/checksum.elf");

void run_to_end(Session& s) {
  for (int i = 0; i < 100000 && !s.finished(); ++i) s.run_slice(50'000);
}

std::string golden_output() {
  Session s;
  s.load_multiboot(kChecksum.toStdString());
  run_to_end(s);
  return s.console_output();
}

// Runs the exported file as a campaign; returns its only result.
pb::ExperimentResult run_exported(const fs::path& file, const fs::path& db_path) {
  experiments::LoaderVars vars{{"FAULTLINE_GUEST_DIR", FAULTLINE_GUEST_DIR}};
  experiments::LoadedCampaign lc = experiments::load_campaign(file, vars);
  auto s = campaign::start_session(lc, 0);
  store::Store db = campaign::create_store(db_path, lc, *s, 0);
  campaign::run_pending(*s, db, 1, false);
  EXPECT_EQ(db.row_count(), 1u);
  std::optional<store::Row> row = db.row(0);
  return row ? row->result : pb::ExperimentResult{};
}

// Runs the exported file with the real command line, `faultline campaign
// run FILE --db DB`, and returns the stored result.
pb::ExperimentResult run_exported_with_cli(const fs::path& file, const fs::path& db_path) {
  QProcess cli;
  cli.start(FAULTLINE_BIN, {"campaign", "run", QString::fromStdString(file.string()), "--workers", "1", "--quiet",
                            "--db", QString::fromStdString(db_path.string())});
  EXPECT_TRUE(cli.waitForFinished(120'000));
  EXPECT_EQ(cli.exitCode(), 0) << cli.readAllStandardError().toStdString();
  store::Store db = store::Store::open(db_path.string());
  EXPECT_EQ(db.row_count(), 1u);
  std::optional<store::Row> row = db.row(0);
  return row ? row->result : pb::ExperimentResult{};
}

class FaultExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("faultline-gui-export-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FaultExportTest, InjectNowExportReproducesTheOutcomeInACampaign) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  Session& s = w.session();
  // Between the buffer's fill and its checksum.
  s.run_slice(200'000);
  FaultPanel* p = w.fault_panel();
  p->set_symbol_target("data_buffer+0x1000");
  p->set_model(FaultPanel::Model::BitFlip);
  p->set_bit(2);
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  EXPECT_NE(p->log_text().indexOf("@tick 200000 (2000000 ns): bit flip virt"), -1) << p->log_text().toStdString();
  run_to_end(s);
  ASSERT_TRUE(s.finished());
  const std::string gui_out = s.console_output();
  ASSERT_NE(gui_out, golden_output()) << "the flip should change the checksum";

  const fs::path file = dir_ / "by_hand.textproto";
  ASSERT_TRUE(p->export_to(QString::fromStdString(file.string()))) << p->log_text().toStdString();
  const pb::ExperimentResult r = run_exported(file, dir_ / "by_hand.db");
  // The file has no classification: the kernel's exit status 1 (checksum
  // mismatch) is a crash by the default rules.
  EXPECT_EQ(s.finish_reason(), "guest exited with status 1");
  EXPECT_EQ(r.exit_status(), 1u);
  EXPECT_EQ(r.outcome(), pb::CRASH) << r.ShortDebugString();
  EXPECT_EQ(r.trigger_instruction(), 200'000u);
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(gui_out));
  // The same file through the command line.
  const pb::ExperimentResult c = run_exported_with_cli(file, dir_ / "by_hand_cli.db");
  EXPECT_EQ(c.outcome(), pb::CRASH) << c.ShortDebugString();
  EXPECT_EQ(c.trigger_instruction(), 200'000u);
  EXPECT_EQ(c.output_digest(), campaign::sha256_hex(gui_out));
}

TEST_F(FaultExportTest, ArmedPcTriggerFiresIsLoggedAndExportsExactly) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  Session& s = w.session();
  FaultPanel* p = w.fault_panel();
  // A register fault when the checksum loop is entered: stuck-at-1 on a
  // high bit of ECX for 50 instructions.
  p->set_register_target("ecx");
  p->set_model(FaultPanel::Model::StuckAt1);
  p->set_bit(20);
  p->set_duration(FaultPanel::Duration::Intermittent, 50);
  p->set_trigger(FaultPanel::Trigger::Pc, "compute_checksum", 1);
  ASSERT_TRUE(p->arm()) << p->log_text().toStdString();
  EXPECT_TRUE(s.trigger_pending());
  // Run on the worker thread like the window does.
  w.run();
  QElapsedTimer clock;
  clock.start();
  while (w.running() && clock.elapsed() < 30'000) {
    QApplication::processEvents(QEventLoop::AllEvents, 5);
    QThread::msleep(2);
  }
  ASSERT_TRUE(s.finished()) << s.finish_reason();
  ASSERT_EQ(s.history().size(), 1u);
  EXPECT_FALSE(s.trigger_pending());
  EXPECT_NE(p->log_text().indexOf("trigger fired: stuck-at-1 ecx bit 20"), -1) << p->log_text().toStdString();
  const std::string gui_out = s.console_output();

  const fs::path file = dir_ / "armed.textproto";
  ASSERT_TRUE(p->export_to(QString::fromStdString(file.string()))) << p->log_text().toStdString();
  const pb::ExperimentResult r = run_exported(file, dir_ / "armed.db");
  EXPECT_EQ(r.trigger_instruction(), s.history()[0].record.at_instruction);
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(gui_out)) << r.ShortDebugString();
  EXPECT_NE(r.outcome(), pb::NOT_TRIGGERED);
}

TEST_F(FaultExportTest, BadInputIsRefusedWithAReason) {
  MainWindow w;
  FaultPanel* p = w.fault_panel();
  EXPECT_FALSE(p->export_to(QString::fromStdString((dir_ / "x.textproto").string())));
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  EXPECT_FALSE(p->export_to(QString::fromStdString((dir_ / "x.textproto").string())));
  EXPECT_NE(p->log_text().indexOf("nothing to export"), -1) << p->log_text().toStdString();
  p->set_physical_target(0);
  p->set_symbol_target("no_such_symbol");
  EXPECT_FALSE(p->inject());
  EXPECT_NE(p->log_text().indexOf("unknown symbol 'no_such_symbol'"), -1);
  p->set_physical_target(0);
  p->set_physical_target(0);
  p->set_model(FaultPanel::Model::SetValue);
  p->set_value(0);
  p->set_physical_target(0x100000);
  p->set_trigger(FaultPanel::Trigger::Instruction, "twelve");
  EXPECT_FALSE(p->arm());
  EXPECT_NE(p->log_text().indexOf("invalid instruction count 'twelve'"), -1);
  // Two faults since the reset: an experiment holds one.
  p->set_model(FaultPanel::Model::BitFlip);
  p->set_bit(1);
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  EXPECT_FALSE(p->export_to(QString::fromStdString((dir_ / "x.textproto").string())));
  EXPECT_NE(p->log_text().indexOf("2 faults were injected since the last reset"), -1) << p->log_text().toStdString();
  // Keys pressed by hand cannot be replayed at the same instants.
  w.reset();
  w.session().run_slice(1000);
  w.sim().post_key(i8042::KeyCode::A, true);
  w.sim().post_key(i8042::KeyCode::A, false);
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  EXPECT_FALSE(p->export_to(QString::fromStdString((dir_ / "x.textproto").string())));
  EXPECT_NE(p->log_text().indexOf("keyboard was given by hand at tick 1000"), -1) << p->log_text().toStdString();
  // A disk fault over several sectors is not one experiment.
  w.reset();
  p->set_disk_target(0, 10, 4, pb::DISK_READ_ERROR);
  EXPECT_FALSE(p->inject());  // no disk on this machine
  EXPECT_NE(p->log_text().indexOf("disk 0 lba 10..13 read error: not injected"), -1) << p->log_text().toStdString();
  EXPECT_FALSE(fs::exists(dir_ / "x.textproto"));
}

}  // namespace
}  // namespace faultline::gui

namespace faultline::gui {
namespace {

TEST_F(FaultExportTest, ExperimentFileBootsItsWorkloadAndBadFilesNameTheLine) {
  MainWindow w;
  const fs::path bad = dir_ / "bad.textproto";
  {
    std::FILE* f = std::fopen(bad.c_str(), "w");
    std::fputs("name: \"x\"\nmachine { memory_mib: 32 }\nworkload { multiboot { kernal: \"k.elf\" } }\n", f);
    std::fclose(f);
  }
  EXPECT_FALSE(w.open_experiment_file(QString::fromStdString(bad.string())));
  EXPECT_FALSE(w.session().loaded());
  EXPECT_TRUE(w.status_text().contains(QString::fromStdString(bad.string() + ":3:"))) << w.status_text().toStdString();
  EXPECT_FALSE(w.open_experiment_file(QString::fromStdString((dir_ / "missing.textproto").string())));
  EXPECT_TRUE(w.status_text().contains("missing.textproto")) << w.status_text().toStdString();

  ASSERT_TRUE(w.open_experiment_file(QString::fromStdString(
      (fs::path(FAULTLINE_SOURCE_DIR) / "experiments/examples/memory_bitflips_checksum.textproto").string())))
      << w.status_text().toStdString();
  EXPECT_EQ(w.session().memory_mib(), 32u);
  EXPECT_EQ(fs::path(w.session().kernel_path()).filename(), "checksum.elf");
  run_to_end(w.session());
  EXPECT_EQ(w.session().console_output(), golden_output());
}

}  // namespace
}  // namespace faultline::gui

namespace faultline::gui {
namespace {

TEST_F(FaultExportTest, AnArmedFaultAfterAResetIsLoggedWhenItFires) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  FaultPanel* p = w.fault_panel();
  p->set_register_target("eax");
  p->set_bit(1);
  ASSERT_TRUE(p->inject());
  w.reset();
  p->set_trigger(FaultPanel::Trigger::Instruction, "5000");
  ASSERT_TRUE(p->arm()) << p->log_text().toStdString();
  w.run();
  QElapsedTimer clock;
  clock.start();
  while (w.running() && clock.elapsed() < 30'000) {
    QApplication::processEvents(QEventLoop::AllEvents, 5);
    QThread::msleep(2);
  }
  ASSERT_EQ(w.session().history().size(), 1u);
  EXPECT_NE(p->log_text().indexOf("@tick 5000 (50000 ns): trigger fired: bit flip eax bit 1"), -1) << p->log_text().toStdString();
}

}  // namespace
}  // namespace faultline::gui

// ---- every target kind of the panel, exported and replayed as a campaign ----

namespace faultline::gui {
namespace {

// Runs what the panel exports through the campaign API.
pb::ExperimentResult export_and_run(FaultPanel* p, const fs::path& dir, const std::string& name) {
  const fs::path file = dir / (name + ".textproto");
  EXPECT_TRUE(p->export_to(QString::fromStdString(file.string()))) << p->log_text().toStdString();
  return run_exported(file, dir / (name + ".db"));
}

// Bit 27 of the word at data_buffer+0x100 stuck at 1 for the rest of the
// run (the checksum kernel fills the buffer later: only enforcement keeps it).
bool inject_stuck_buffer_bit(FaultPanel* p) {
  p->set_symbol_target("data_buffer+0x100");
  p->set_width(4);
  p->set_model(FaultPanel::Model::StuckAt1);
  p->set_bit(27);
  p->set_duration(FaultPanel::Duration::Permanent);
  return p->inject();
}

TEST_F(FaultExportTest, PermanentMemoryBitExportsExactly) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  Session& s = w.session();
  s.run_slice(1000);
  FaultPanel* p = w.fault_panel();
  ASSERT_TRUE(inject_stuck_buffer_bit(p)) << p->log_text().toStdString();
  run_to_end(s);
  ASSERT_TRUE(s.finished());
  const std::string gui_out = s.console_output();
  ASSERT_NE(gui_out, golden_output()) << "an enforced bit should change the checksum";
  const pb::ExperimentResult r = export_and_run(p, dir_, "permanent");
  EXPECT_EQ(r.fault().bit_mask(), uint64_t{1} << 27);
  EXPECT_TRUE(r.fault().duration().permanent());
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(gui_out)) << r.ShortDebugString();
  EXPECT_EQ(r.trigger_instruction(), 1000u);
}

TEST_F(FaultExportTest, DeviceAndIrqFaultsExportWithThePcPlatform) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  Session& s = w.session();
  s.run_slice(5000);
  FaultPanel* p = w.fault_panel();
  p->set_irq_target(4, pb::IRQ_SPURIOUS);
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  EXPECT_NE(p->log_text().indexOf("@tick 5000 (50000 ns): irq 4 spurious"), -1) << p->log_text().toStdString();
  run_to_end(s);
  pb::ExperimentResult r = export_and_run(p, dir_, "irq");
  EXPECT_EQ(r.fault().irq().line(), 4u);
  EXPECT_EQ(r.fault().irq().kind(), pb::IRQ_SPURIOUS);
  EXPECT_FALSE(r.fault().has_model());
  EXPECT_EQ(r.trigger_instruction(), 5000u);
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(s.output()));
  EXPECT_EQ(r.outcome(), pb::BENIGN) << r.ShortDebugString();

  w.reset();
  s.run_slice(7000);
  p->set_device_target("com1.scr");
  p->set_model(FaultPanel::Model::SetValue);
  p->set_value(0x5a);
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  run_to_end(s);
  r = export_and_run(p, dir_, "device");
  EXPECT_EQ(r.fault().device_field(), "com1.scr");
  EXPECT_EQ(r.fault().model().set_value().value(), 0x5au);
  EXPECT_EQ(r.trigger_instruction(), 7000u);
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(s.output()));
}

// A boot sector (assembled from the listing below) that reads LBA 1 through
// the BIOS (INT 13h, drive 0x80), writes its first 8 bytes to the debug
// console and COM1, and exits with status 0; if the read fails it prints
// "E" and exits with status 3.
//   cli; xor ax,ax; mov ds/es/ss,ax; mov sp,7C00h
//   mov ax,0201h; mov cx,2; mov dx,80h; mov bx,8000h; int 13h; jc fail
//   mov si,8000h; mov cx,8
//   print: lodsb; out E9h,al; mov dx,3F8h; out dx,al; loop print
//   mov al,10; out E9h,al; xor eax,eax; out F4h,eax; hlt
//   fail: mov al,'E'; out E9h,al; mov al,10; out E9h,al; mov eax,3; out F4h,eax; hlt
const char kBootSector[] =
    "fa31c08ed88ec08ed0bc007cb80102b90200ba8000bb0080cd13721abe0080b90800ace6e9baf803eee2f7b00ae6e96631c066e7f4f4"
    "b045e6e9b00ae6e966b80300000066e7f4f4";

fs::path write_boot_disk(const fs::path& dir) {
  std::string img(1 << 20, '\0');
  for (size_t i = 0; kBootSector[2 * i]; ++i)
    img[i] = static_cast<char>(std::stoi(std::string(kBootSector + 2 * i, 2), nullptr, 16));
  img[510] = char(0x55);
  img[511] = char(0xAA);
  img.replace(512, 8, "faultln!");
  const fs::path p = dir / "boot.img";
  std::FILE* f = std::fopen(p.c_str(), "wb");
  std::fwrite(img.data(), 1, img.size(), f);
  std::fclose(f);
  return p;
}

TEST_F(FaultExportTest, DiskAndSerialFaultsOnAFirmwareBootExportExactly) {
  const fs::path disk = write_boot_disk(dir_);
  const fs::path second = dir_ / "second.img";
  fs::copy_file(disk, second);
  MainWindow w;
  Session& s = w.session();
  // Two disks (primary master and slave, as `--disk A --disk B`); the
  // firmware boots the first.
  ASSERT_TRUE(w.open_firmware(QStringList{QString::fromStdString(disk.string()), QString::fromStdString(second.string())}))
      << w.status_text().toStdString();
  w.pause();
  w.fault_panel()->sync_log();
  run_to_end(s);
  ASSERT_EQ(s.console_output(), "faultln!\n") << s.finish_reason();
  ASSERT_EQ(s.finish_reason(), "guest exited with status 0");

  // Silent corruption of what the read of LBA 1 returns: bit 0 of byte 2.
  FaultPanel* p = w.fault_panel();
  w.reset();
  p->set_disk_target(0, 1, 1, pb::DISK_CORRUPT_READ, 2);
  p->set_width(1);
  p->set_model(FaultPanel::Model::BitFlip);
  p->set_bit(0);
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  run_to_end(s);
  EXPECT_EQ(s.console_output(), "fatltln!\n");
  ASSERT_EQ(s.history().size(), 1u);
  EXPECT_NE(s.history()[0].record.detail.find("read of lba 1 corrupted"), std::string::npos)
      << s.history()[0].record.detail;
  pb::ExperimentResult r = export_and_run(p, dir_, "corrupt");
  {
    // The exported workload is the session's firmware boot with both disks.
    experiments::LoaderVars vars;
    const experiments::LoadedCampaign lc = experiments::load_campaign(dir_ / "corrupt.textproto", vars);
    ASSERT_EQ(lc.campaign.workload().firmware().disks_size(), 2);
    EXPECT_EQ(lc.campaign.workload().firmware().disks(1), second.string());
    EXPECT_EQ(lc.campaign.fault_space(0).bit_mask(), 1u);
  }
  EXPECT_EQ(r.fault().disk().lba(), 1u);
  EXPECT_EQ(r.fault().disk().offset(), 2u);
  EXPECT_EQ(r.fault().bit_mask(), 1u);
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(s.output()));
  EXPECT_EQ(r.outcome(), pb::SDC) << r.ShortDebugString();
  const pb::ExperimentResult c = run_exported_with_cli(dir_ / "corrupt.textproto", dir_ / "corrupt_cli.db");
  EXPECT_EQ(c.outcome(), pb::SDC) << c.ShortDebugString();
  EXPECT_EQ(c.output_digest(), campaign::sha256_hex(s.output()));

  // A read error on LBA 1: the boot sector reports it and exits with 3.
  w.reset();
  p->set_disk_target(0, 1, 1, pb::DISK_READ_ERROR);
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  run_to_end(s);
  EXPECT_EQ(s.console_output(), "E\n");
  EXPECT_EQ(s.finish_reason(), "guest exited with status 3");
  r = export_and_run(p, dir_, "read_error");
  EXPECT_EQ(r.exit_status(), 3u);
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(s.output()));
  EXPECT_EQ(r.outcome(), pb::CRASH) << r.ShortDebugString();

  // The first byte the guest sends on COM1 is lost; the debug console keeps it.
  w.reset();
  p->set_serial_target(1, pb::SERIAL_TX, pb::SERIAL_DROP);
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  run_to_end(s);
  EXPECT_EQ(s.serial_output().substr(s.serial_output().size() - 7), "aultln!");
  EXPECT_EQ(s.serial_output().find("faultln!"), std::string::npos);
  EXPECT_EQ(s.console_output(), "faultln!\n");
  r = export_and_run(p, dir_, "serial");
  EXPECT_EQ(r.fault().serial().com(), 1u);
  EXPECT_EQ(r.fault().serial().action(), pb::SERIAL_DROP);
  EXPECT_EQ(r.trigger_instruction(), 0u);
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(s.output()));
}

TEST_F(FaultExportTest, AccessPortAndOutputTriggersExportAsTheTickTheyFired) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  Session& s = w.session();
  FaultPanel* p = w.fault_panel();
  // A register flip right after the guest's 100th write into data_buffer
  // (the trigger fires after the access; the flip happens at the next
  // instruction boundary).
  p->set_register_target("ecx");
  p->set_bit(4);
  p->set_trigger(FaultPanel::Trigger::MemoryAccess, "data_buffer", 100, FaultPanel::Access::Write);
  ASSERT_TRUE(p->arm()) << p->log_text().toStdString();
  run_to_end(s);
  ASSERT_EQ(s.history().size(), 1u) << p->log_text().toStdString();
  const uint64_t tick = s.history()[0].record.at_instruction;
  EXPECT_GT(tick, 0u);
  pb::ExperimentResult r = export_and_run(p, dir_, "memory_access");
  EXPECT_EQ(r.trigger_instruction(), tick);
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(s.output()));

  // On the output: once "checksum=" was printed, flip a bit of ESP.
  w.reset();
  p->set_register_target("esp");
  p->set_bit(2);
  p->set_trigger(FaultPanel::Trigger::Output, "checksum=", 1);
  ASSERT_TRUE(p->arm()) << p->log_text().toStdString();
  run_to_end(s);
  ASSERT_EQ(s.history().size(), 1u) << p->log_text().toStdString();
  r = export_and_run(p, dir_, "output");
  EXPECT_EQ(r.trigger_instruction(), s.history()[0].record.at_instruction);
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(s.output()));

  // Bad trigger values are refused with what is wrong.
  w.reset();
  p->set_trigger(FaultPanel::Trigger::Port, "zz");
  EXPECT_FALSE(p->arm());
  EXPECT_NE(p->log_text().indexOf("invalid port 'zz'"), -1) << p->log_text().toStdString();
  p->set_trigger(FaultPanel::Trigger::MemoryAccess, "0x2000-0x1000");
  EXPECT_FALSE(p->arm());
  EXPECT_NE(p->log_text().indexOf("invalid range '0x2000-0x1000'"), -1) << p->log_text().toStdString();
  p->set_trigger(FaultPanel::Trigger::Output, "(unclosed");
  EXPECT_FALSE(p->arm());
  EXPECT_NE(p->log_text().indexOf("bad output pattern '(unclosed'"), -1) << p->log_text().toStdString();
  EXPECT_TRUE(s.history().empty());
}

TEST_F(FaultExportTest, SeveralHandMadeFaultsAreActiveAtOnce) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  Session& s = w.session();
  s.run_slice(1000);
  FaultPanel* p = w.fault_panel();
  // A cell held stuck for the whole run ...
  ASSERT_TRUE(inject_stuck_buffer_bit(p)) << p->log_text().toStdString();
  // ... and, later, a register flip when the checksum starts.
  p->set_register_target("esi");
  p->set_model(FaultPanel::Model::BitFlip);
  p->set_bit(0);
  p->set_duration(FaultPanel::Duration::Transient);
  p->set_trigger(FaultPanel::Trigger::Pc, "compute_checksum", 1);
  ASSERT_TRUE(p->arm()) << p->log_text().toStdString();
  EXPECT_EQ(s.active_faults(), 2u);
  EXPECT_TRUE(s.trigger_pending());
  run_to_end(s);
  ASSERT_EQ(s.history().size(), 2u);
  EXPECT_TRUE(s.history()[0].fault.duration().permanent());
  EXPECT_EQ(s.history()[1].fault.register_name(), "esi");
  EXPECT_GT(s.history()[1].record.at_instruction, s.history()[0].record.at_instruction);
  // The stuck bit held through the guest's writes while the PC trigger
  // (chained behind it) fired.
  const auto sym = s.symbols()->find("data_buffer");
  ASSERT_TRUE(sym);
  uint32_t word = 0;
  std::memcpy(&word, s.machine()->memory().data() + sym->value + 0x100, 4);
  EXPECT_NE(word & (1u << 27), 0u);
  EXPECT_FALSE(p->export_to(QString::fromStdString((dir_ / "two.textproto").string())));
  EXPECT_NE(p->log_text().indexOf("2 faults were injected since the last reset"), -1);
  p->disarm();
  EXPECT_EQ(s.active_faults(), 0u);
}

TEST_F(FaultExportTest, OneDiskFaultPerDriveAtATime) {
  const fs::path disk = write_boot_disk(dir_);
  const fs::path second = dir_ / "second.img";
  fs::copy_file(disk, second);
  MainWindow w;
  ASSERT_TRUE(w.open_firmware(QStringList{QString::fromStdString(disk.string()), QString::fromStdString(second.string())}));
  w.pause();
  FaultPanel* p = w.fault_panel();
  p->set_disk_target(0, 100, 1, pb::DISK_READ_ERROR);
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  EXPECT_NE(p->log_text().indexOf("hits the next matching transfer"), -1) << p->log_text().toStdString();
  p->set_disk_target(0, 1, 1, pb::DISK_READ_ERROR);
  EXPECT_FALSE(p->inject());
  EXPECT_NE(p->log_text().indexOf("a disk fault on drive 0 is already active"), -1) << p->log_text().toStdString();
  p->set_disk_target(1, 1, 1, pb::DISK_READ_ERROR);
  EXPECT_TRUE(p->inject()) << p->log_text().toStdString();
  EXPECT_EQ(w.session().active_faults(), 2u);
  // Neither sector is read by the boot: the boot ends as without faults.
  run_to_end(w.session());
  EXPECT_EQ(w.session().console_output(), "faultln!\n");
  EXPECT_TRUE(w.session().history().empty());
  EXPECT_TRUE(w.session().trigger_pending());
}

TEST_F(FaultExportTest, RandomValueExportsAsTheValueDrawn) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  Session& s = w.session();
  s.run_slice(200'000);
  FaultPanel* p = w.fault_panel();
  p->set_symbol_target("data_buffer+0x200");
  p->set_width(4);
  p->set_model(FaultPanel::Model::Random);
  p->set_value(12345);  // the seed
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  ASSERT_EQ(s.history().size(), 1u);
  const uint64_t drawn = s.history()[0].record.value;
  run_to_end(s);
  const pb::ExperimentResult r = export_and_run(p, dir_, "random");
  EXPECT_TRUE(r.fault().model().has_set_value()) << r.ShortDebugString();
  EXPECT_EQ(r.fault().model().set_value().value(), drawn);
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(s.output()));
}

}  // namespace
}  // namespace faultline::gui
