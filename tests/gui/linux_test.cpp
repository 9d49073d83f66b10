// The Linux guest in the machine window (skipped without
// FAULTLINE_LINUX_GUEST_DIR): the shell on COM1 answers a line typed into
// the serial console, while the guest runs on the worker thread.
#include <QApplication>
#include <QElapsedTimer>
#include <QThread>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>
#include <string>

#include "experiments/campaign/driver.h"
#include "experiments/campaign/sha256.h"
#include "experiments/loader/campaign_loader.h"
#include "experiments/store/store.h"
#include "gui/fault_panel.h"
#include "gui/main_window.h"

namespace faultline::gui {
namespace {

namespace fs = std::filesystem;

bool wait_for(MainWindow& w, const std::string& text, size_t from, int ms) {
  QElapsedTimer clock;
  clock.start();
  while (clock.elapsed() < ms) {
    QApplication::processEvents(QEventLoop::AllEvents, 5);
    QThread::msleep(5);
    if (w.sim().serial_output().find(text, from) != std::string::npos) return true;
  }
  return false;
}

TEST(GuiLinux, SerialConsoleInputReachesTheShell) {
  const char* dir = std::getenv("FAULTLINE_LINUX_GUEST_DIR");
  if (!dir || !*dir) GTEST_SKIP() << "FAULTLINE_LINUX_GUEST_DIR not set";
  MainWindow w;
  const std::string d = dir;
  ASSERT_TRUE(w.open_linux(QString::fromStdString(d + "/bzImage"), QString::fromStdString(d + "/initramfs.cpio.gz"),
                           "console=ttyS0 fl.shell=1"));
  w.run();
  ASSERT_TRUE(wait_for(w, "fl$ ", 0, 120'000)) << w.sim().serial_output();
  const size_t before = w.sim().serial_output().size();
  ASSERT_TRUE(w.send_serial("echo typed into com1\n"));
  ASSERT_TRUE(wait_for(w, "\ntyped into com1", before, 60'000)) << w.sim().serial_output().substr(before);
  w.pause();
  EXPECT_FALSE(w.session().finished());
}

// Experiment files with Linux and firmware workloads boot in the window like
// their golden runs: kernel, initrd, command line and the IDE disks.
TEST(GuiLinux, ExperimentFilesBootLinuxAndFirmwareWorkloadsWithTheirDisks) {
  const char* dir = std::getenv("FAULTLINE_LINUX_GUEST_DIR");
  if (!dir || !*dir) GTEST_SKIP() << "FAULTLINE_LINUX_GUEST_DIR not set";
  const std::string examples = std::string(FAULTLINE_SOURCE_DIR) + "/experiments/examples/";
  MainWindow w;
  ASSERT_TRUE(w.open_experiment_file(QString::fromStdString(examples + "linux_disk_corruption.textproto")))
      << w.status_text().toStdString();
  Session& s = w.session();
  EXPECT_EQ(s.kind(), GuestKind::Linux);
  ASSERT_EQ(s.disks().size(), 1u);
  EXPECT_EQ(s.disks()[0], std::string(dir) + "/disk.img");
  EXPECT_EQ(s.cmdline(), "console=ttyS0 quiet fl.shell=1");
  w.run();
  ASSERT_TRUE(wait_for(w, "fl$ ", 0, 120'000)) << w.sim().serial_output();
  // filerw writes, reads back and verifies a file on the disk's ext2.
  const size_t before = w.sim().serial_output().size();
  ASSERT_TRUE(w.send_serial("run filerw\n"));
  ASSERT_TRUE(wait_for(w, "workload filerw: ok", before, 120'000)) << w.sim().serial_output().substr(before);
  w.pause();

  ASSERT_TRUE(w.open_experiment_file(QString::fromStdString(examples + "firmware_ivt_flips.textproto")))
      << w.status_text().toStdString();
  EXPECT_EQ(s.kind(), GuestKind::Firmware);
  ASSERT_EQ(s.disks().size(), 1u);
  EXPECT_EQ(s.kernel_path(), "/usr/share/seabios/bios-256k.bin");
  // SeaBIOS boots syslinux from the disk, which loads Linux through BIOS calls.
  w.run();
  ASSERT_TRUE(wait_for(w, "faultline-init: started", 0, 180'000)) << w.sim().serial_output();
  w.pause();
}

// What is sent by hand into COM1 is exported as script steps that send it
// at the same tick: the exported experiment (Linux workload, the shell
// driven through COM1, a device-register fault) reproduces the window's run.
TEST(GuiLinux, Com1InputIsExportedAsScriptStepsAndReplaysExactly) {
  const char* dir = std::getenv("FAULTLINE_LINUX_GUEST_DIR");
  if (!dir || !*dir) GTEST_SKIP() << "FAULTLINE_LINUX_GUEST_DIR not set";
  const std::string d = dir;
  MainWindow w;
  ASSERT_TRUE(w.open_linux(QString::fromStdString(d + "/bzImage"), QString::fromStdString(d + "/initramfs.cpio.gz"),
                           "console=ttyS0 quiet fl.shell=1"));
  Session& s = w.session();
  // Driven slice by slice from here (the worker is not started).
  auto run_until = [&](const std::string& text, size_t from) {
    for (int i = 0; i < 20'000 && !s.finished(); ++i) {
      if (s.serial_output().find(text, from) != std::string::npos) return true;
      s.run_slice(100'000);
    }
    return s.serial_output().find(text, from) != std::string::npos;
  };
  ASSERT_TRUE(run_until("fl$ ", 0)) << s.serial_output();
  const uint64_t sent_at = s.cpu()->ticks();
  ASSERT_TRUE(w.send_serial("echo export-test\n"));
  ASSERT_TRUE(run_until("\nexport-test", 0)) << s.serial_output();
  FaultPanel* p = w.fault_panel();
  p->set_device_target("com1.scr");
  p->set_model(FaultPanel::Model::SetValue);
  p->set_value(0xA5);
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  ASSERT_TRUE(w.send_serial("exit 3\n"));
  for (int i = 0; i < 20'000 && !s.finished(); ++i) s.run_slice(100'000);
  ASSERT_EQ(s.finish_reason(), "guest exited with status 3") << s.serial_output();
  const uint64_t end_ticks = s.cpu()->ticks();
  ASSERT_EQ(s.serial_inputs().size(), 2u);
  EXPECT_EQ(s.serial_inputs()[0].tick, sent_at);

  const fs::path out = fs::temp_directory_path() / ("faultline-gui-linux-export-" + std::to_string(getpid()));
  fs::remove_all(out);
  fs::create_directories(out);
  const fs::path file = out / "com1.textproto";
  ASSERT_TRUE(p->export_to(QString::fromStdString(file.string()))) << p->log_text().toStdString();
  experiments::LoaderVars vars;
  experiments::LoadedCampaign lc = experiments::load_campaign(file, vars);
  ASSERT_EQ(lc.campaign.script_size(), 4);  // wait, send, wait, send
  EXPECT_EQ(lc.campaign.script(0).wait_ns(), s.machine()->clock().ticks_to_ns(sent_at));
  EXPECT_EQ(lc.campaign.script(1).serial_input(), "echo export-test\n");
  EXPECT_EQ(lc.campaign.script(3).serial_input(), "exit 3\n");
  auto cs = campaign::start_session(lc, 0);
  store::Store db = campaign::create_store(out / "com1.db", lc, *cs, 0);
  campaign::run_pending(*cs, db, 1, false);
  ASSERT_EQ(db.row_count(), 1u);
  const pb::ExperimentResult r = db.row(0)->result;
  EXPECT_EQ(r.exit_status(), 3u) << r.ShortDebugString();
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(s.output())) << r.ShortDebugString();
  EXPECT_EQ(r.fault().device_field(), "com1.scr");
  // The same instant: the input reached the guest at the same ticks, so the
  // run ends at the same tick.
  EXPECT_EQ(r.end_instruction(), end_ticks);
  fs::remove_all(out);
}

}  // namespace
}  // namespace faultline::gui
