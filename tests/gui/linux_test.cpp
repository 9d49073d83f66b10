// The Linux guest in the machine window (skipped without
// FAULTLINE_LINUX_GUEST_DIR): the shell on COM1 answers a line typed into
// the serial console, while the guest runs on the worker thread.
#include <QApplication>
#include <QElapsedTimer>
#include <QThread>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "gui/main_window.h"

namespace faultline::gui {
namespace {

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

}  // namespace
}  // namespace faultline::gui
