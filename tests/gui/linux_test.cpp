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

}  // namespace
}  // namespace faultline::gui
