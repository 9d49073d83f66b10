// Golden versus faulty, side by side: a window over a Lockstep of two forks
// of the machine window's current state. Each side shows its screen,
// console, COM1 and registers; the fault panel acts on the faulty side.
// "Run lockstep" steps both on a worker thread (LockstepThread) and stops
// at the first divergence, which is shown in red with where it happened; a
// table lists the first divergence of each kind (registers, memory,
// console, COM1, screen, ending) as the runs drift apart, and differing
// registers are marked.
//
// Threads: the widgets never touch the machines while the worker steps. A
// timer takes the view the worker publishes between two steps (one
// consistent state of both sides); the fault panel's injections go through
// LockstepThread::with_machine, between two steps. Closing the window
// pauses the worker; destroying it joins the thread.
#pragma once

#include <QWidget>
#include <memory>
#include <string>

#include "gui/lockstep.h"
#include "gui/lockstep_thread.h"

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;

namespace faultline::gui {

class FaultPanel;
class VgaView;

class CompareWindow : public QWidget {
  Q_OBJECT

 public:
  // Forks `origin` (throws std::logic_error as Session::fork does).
  explicit CompareWindow(Session& origin, QWidget* parent = nullptr);
  ~CompareWindow() override;

  // The lockstep itself: use it only while running() is false.
  Lockstep& lockstep() { return *lock_; }
  LockstepThread& worker() { return *thread_; }
  FaultPanel* fault_panel() const { return panel_; }
  void set_granularity(uint64_t ticks);
  QString divergence_text() const;
  // The per-kind table, one line a row: "kind<TAB>tick<TAB>from<TAB>what".
  QString divergences_table_text() const;
  QString registers_text(bool faulty) const;
  // True while the worker runs or does a step.
  bool running() const { return thread_->busy(); }

 public Q_SLOTS:
  void run();
  void pause();
  // One lockstep step of the granularity (on the worker; the window shows
  // the result when it is done).
  void step();
  void refresh();

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void poll();
  void show_view(LockstepThread::View& v);

  std::unique_ptr<Lockstep> lock_;
  std::unique_ptr<LockstepThread> thread_;  // after lock_: joined before it goes
  size_t injections_seen_ = 0;
  QTimer* timer_ = nullptr;
  QTableWidget* kinds_ = nullptr;
  std::string shown_console_[2], shown_serial_[2];
  VgaView* screen_[2] = {};
  QPlainTextEdit* console_[2] = {};
  QPlainTextEdit* serial_[2] = {};
  QPlainTextEdit* regs_[2] = {};
  QLabel* status_[2] = {};
  FaultPanel* panel_ = nullptr;
  QSpinBox* granularity_ = nullptr;
  QLabel* divergence_ = nullptr;
  QPushButton* run_ = nullptr;
  QPushButton* pause_ = nullptr;
  QPushButton* step_ = nullptr;
};

}  // namespace faultline::gui
