// Golden versus faulty, side by side: a window over a Lockstep of two forks
// of the machine window's current state. Each side shows its screen,
// console, COM1 and registers; the fault panel acts on the faulty side.
// "Run lockstep" steps both (on the GUI thread, in ~15 ms bursts of steps
// of the chosen granularity) and stops at the first divergence, which is
// shown in red with where it happened; differing registers are marked.
#pragma once

#include <QWidget>
#include <memory>

#include "gui/lockstep.h"

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
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

  Lockstep& lockstep() { return *lock_; }
  FaultPanel* fault_panel() const { return panel_; }
  void set_granularity(uint64_t ticks);
  QString divergence_text() const;
  QString registers_text(bool faulty) const;
  bool running() const { return running_; }

 public Q_SLOTS:
  void run();
  void pause();
  // One lockstep step of the granularity.
  void step();
  void refresh();

 private:
  void burst();

  std::unique_ptr<Lockstep> lock_;
  bool running_ = false;
  QTimer* timer_ = nullptr;
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
