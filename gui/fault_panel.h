// Manual fault injection: pick a register or a physical address and a bit,
// and flip it now (a transient bit_flip through the FaultInjector).
#pragma once

#include <QWidget>
#include <cstdint>
#include <functional>

class QComboBox;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace faultline::gui {

class Session;

// Parses a hexadecimal address ("1000", "0x1000"); false if it is not one.
bool parse_hex(const QString& text, uint64_t& value);

class FaultPanel : public QWidget {
  Q_OBJECT

 public:
  explicit FaultPanel(Session& session, QWidget* parent = nullptr);

  // Programmatic access to the form (tests, command line).
  void set_register_target(const QString& name);
  void set_physical_target(uint64_t address);
  void set_bit(int bit);
  QString log_text() const;
  // Wraps every use of the machine (the window passes SimThread::with_machine
  // so an injection happens between two slices of a running guest).
  void set_machine_guard(std::function<void(const std::function<void()>&)> guard) { guard_ = std::move(guard); }
  // Adds a line to the injection log (replay notes, verdicts).
  void log_external(const QString& line) { log(line); }
  QPushButton* inject_button() const { return inject_; }

 public Q_SLOTS:
  // Injects what the form describes; logs the result. False on failure.
  bool inject();

 Q_SIGNALS:
  void injected();

 private:
  void target_changed();
  void log(const QString& line);

  Session& session_;
  std::function<void(const std::function<void()>&)> guard_;
  QComboBox* target_ = nullptr;
  QLineEdit* address_ = nullptr;
  QSpinBox* bit_ = nullptr;
  QPushButton* inject_ = nullptr;
  QPlainTextEdit* log_ = nullptr;
};

}  // namespace faultline::gui
