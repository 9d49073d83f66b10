// Inspection while paused: breakpoints by symbol stop the worker before the
// instruction, the disassembly marks EIP with the symbol name, the memory
// view reads by virtual and physical address, and snapshots restore the
// machine so the rest of the run repeats exactly.
#include <QApplication>
#include <QElapsedTimer>
#include <QThread>
#include <gtest/gtest.h>

#include <string>

#include "gui/main_window.h"

namespace faultline::gui {
namespace {

const QString kChecksum = QString::fromStdString(std::string(FAULTLINE_GUEST_DIR) + "/checksum.elf");

void wait_until_paused(MainWindow& w) {
  QElapsedTimer clock;
  clock.start();
  while (w.running() && clock.elapsed() < 30'000) {
    QApplication::processEvents(QEventLoop::AllEvents, 5);
    QThread::msleep(2);
  }
}

TEST(GuiInspection, BreakpointOnASymbolStopsThereAndTheDisassemblyShowsIt) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  const auto sym = w.session().symbols()->find("compute_checksum");
  ASSERT_TRUE(sym);
  EXPECT_FALSE(w.add_breakpoint_text("no_such_symbol"));
  EXPECT_TRUE(w.status_text().contains("neither a hex address nor a symbol")) << w.status_text().toStdString();
  ASSERT_TRUE(w.add_breakpoint_text("compute_checksum"));
  w.run();
  wait_until_paused(w);
  ASSERT_FALSE(w.session().finished()) << w.session().finish_reason();
  EXPECT_EQ(w.session().cpu()->s.eip, sym->value);
  EXPECT_TRUE(w.status_text().contains("Breakpoint at")) << w.status_text().toStdString();
  EXPECT_TRUE(w.status_text().contains("<compute_checksum>")) << w.status_text().toStdString();
  const QString dis = w.disassembly_text();
  EXPECT_TRUE(dis.contains("<compute_checksum>:")) << dis.toStdString();
  // The current line is marked and carries the breakpoint star.
  EXPECT_TRUE(dis.contains(QString("=>* %1").arg(sym->value, 8, 16, QChar('0')).toUpper().replace("=>*", "=>*")) ||
              dis.contains(QString("=>* %1").arg(QString("%1").arg(sym->value, 8, 16, QChar('0')).toUpper())))
      << dis.toStdString();
  // Resuming does not stop at the same arrival again: the kernel finishes.
  w.run();
  wait_until_paused(w);
  EXPECT_TRUE(w.session().finished());
  EXPECT_EQ(w.session().finish_reason(), "guest exited with status 0");
}

TEST(GuiInspection, MemoryViewByPhysicalAndVirtualAddress) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  w.session().run_slice(300'000);  // the buffer is filled by now
  const auto sym = w.session().symbols()->find("data_buffer");
  ASSERT_TRUE(sym);
  const QString addr = QString("0x%1").arg(sym->value, 0, 16);
  w.show_memory(addr, false);
  const QString phys = w.memory_text();
  w.show_memory(addr, true);
  const QString virt = w.memory_text();
  // This kernel runs without paging: both views show the same bytes.
  EXPECT_EQ(phys, virt);
  uint8_t b = 0;
  ASSERT_TRUE(w.session().cpu()->read_phys(sym->value, &b, 1));
  EXPECT_TRUE(phys.contains(QString(" %1").arg(b, 2, 16, QChar('0')).toUpper())) << phys.toStdString();
  w.show_memory("zz", true);
  EXPECT_TRUE(w.memory_text().contains("bad address")) << w.memory_text().toStdString();
  w.show_memory("0x1F0000000", true);
  EXPECT_TRUE(w.memory_text().contains("invalid virtual address")) << w.memory_text().toStdString();
}

TEST(GuiInspection, SnapshotLoadRepeatsTheRunExactly) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  Session& s = w.session();
  s.run_slice(100'000);
  const uint64_t at = s.cpu()->ticks();
  const std::string out_at = s.console_output();
  s.save_snapshot();
  EXPECT_EQ(s.snapshot_ticks(), at);
  for (int i = 0; i < 1000 && !s.finished(); ++i) s.run_slice(1'000'000);
  ASSERT_TRUE(s.finished());
  const std::string first = s.console_output();
  const uint64_t end = s.cpu()->ticks();
  s.load_snapshot();
  EXPECT_FALSE(s.finished());
  EXPECT_EQ(s.cpu()->ticks(), at);
  EXPECT_EQ(s.console_output(), out_at);
  for (int i = 0; i < 1000 && !s.finished(); ++i) s.run_slice(1'000'000);
  EXPECT_EQ(s.console_output(), first);
  EXPECT_EQ(s.cpu()->ticks(), end);
}

}  // namespace
}  // namespace faultline::gui
