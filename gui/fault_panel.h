// Manual fault injection: a fault as the experiment files describe it —
// target (register, physical or virtual address, ELF symbol[+offset],
// device register, IDE disk sectors, COM port bytes, ISA IRQ line),
// model (bit flip, stuck-at 0/1, set value, random value), duration
// (transient, intermittent, permanent) — injected now or armed on a
// trigger (retired-instruction count, virtual time, PC address or symbol,
// N-th arrival). Every applied fault is logged with its tick and virtual
// time; "Export experiment file…" writes a campaign file that replays what
// was done (gui/experiment_export.h).
//
// The panel builds a pb::Fault and hands it to the Session's injector (the
// same FaultInjector campaigns use); the window passes a guard so this
// happens between two slices of a running guest.
#pragma once

#include <QWidget>
#include <cstdint>
#include <functional>

#include "fault.pb.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;

namespace faultline::gui {

class Session;

// Parses a hexadecimal address ("1000", "0x1000"); false if it is not one.
bool parse_hex(const QString& text, uint64_t& value);

class FaultPanel : public QWidget {
  Q_OBJECT

 public:
  enum class Target { Register, Physical, Virtual, Symbol, Device, Disk, Serial, Irq };
  enum class Model { BitFlip, StuckAt0, StuckAt1, SetValue, Random };
  enum class Duration { Transient, Intermittent, Permanent };
  enum class Trigger { Instruction, TimeNs, Pc, MemoryAccess, Port, Output };
  enum class Access { ReadOrWrite, Read, Write };

  explicit FaultPanel(Session& session, QWidget* parent = nullptr);

  // Programmatic access to the form (tests, command line).
  void set_register_target(const QString& name);
  void set_physical_target(uint64_t address);
  void set_virtual_target(uint64_t address);
  void set_symbol_target(const QString& symbol_plus_offset);
  void set_device_target(const QString& field);  // e.g. "pic.master.imr"
  // Sectors [lba, lba + count) of IDE drive 0..3; `offset` is the byte
  // offset of the corrupted cell (read corruption only).
  void set_disk_target(unsigned drive, uint64_t lba, uint64_t count, pb::DiskFaultKind kind, unsigned offset = 0);
  void set_serial_target(unsigned com, pb::SerialDirection direction, pb::SerialAction action);
  void set_irq_target(unsigned line, pb::IrqFaultKind kind);
  void set_width(unsigned bytes);
  void set_bit(int bit);
  void set_model(Model m);
  void set_value(uint64_t v);
  void set_duration(Duration d, uint64_t instructions = 0);
  // Trigger value: a decimal count / ns; a hex address or symbol for Pc; a
  // physical range "START-END" (end exclusive), "START+LENGTH", a hex
  // address (one byte) or a symbol (its extent) for MemoryAccess; a port
  // "0x3f8" or range "0x3f8-0x400" for Port; an ECMAScript regex on the
  // console/COM1 output for Output. `occurrence`: the N-th arrival, access
  // or match.
  void set_trigger(Trigger t, const QString& value, unsigned occurrence = 1, Access access = Access::ReadOrWrite);
  QString log_text() const;
  QPushButton* inject_button() const { return inject_; }

  // The fault the form describes (trigger included when `with_trigger`);
  // false and `error` set when the form is not valid.
  bool build_fault(pb::Fault& out, QString& error, bool with_trigger);

  // Wraps every use of the machine (the window passes SimThread::with_machine
  // so an injection happens between two slices of a running guest).
  void set_machine_guard(std::function<void(const std::function<void()>&)> guard) { guard_ = std::move(guard); }
  // Adds a line to the injection log (replay notes, verdicts).
  void log_external(const QString& line) { log(line); }
  // Logs the injections the session recorded since the last call (armed
  // triggers that fired while running). Call with the machine idle.
  void log_new_injections();
  // The machine was replaced or restored: what its history holds now counts
  // as logged. Call with the machine idle.
  void sync_log();

 public Q_SLOTS:
  // Injects what the form describes now; logs the result. False on failure.
  bool inject();
  // Arms the form's fault on its trigger. False (and a log line) on failure.
  bool arm();
  void disarm();
  // Writes the experiment file; false and a log line (and a message box
  // when interactive) on failure.
  bool export_to(const QString& path);

 Q_SIGNALS:
  void injected();

 private:
  void form_changed();
  // The target has no value a model could change (disk error/timeout,
  // serial drop, IRQ faults).
  bool modelless() const;
  // The model part of the form (model, bit mask, value or seed).
  bool build_model(pb::Fault& f, QString& err);
  void log(const QString& line);
  void error(const QString& line);
  void with_machine(const std::function<void()>& fn);
  QString describe(const pb::Fault& f) const;

  Session& session_;
  std::function<void(const std::function<void()>&)> guard_;
  size_t logged_ = 0;
  QComboBox* target_kind_ = nullptr;
  QStackedWidget* where_ = nullptr;  // one page per target kind group
  QComboBox* register_ = nullptr;
  QSpinBox* disk_drive_ = nullptr;
  QLineEdit* disk_lba_ = nullptr;
  QSpinBox* disk_count_ = nullptr;
  QComboBox* disk_kind_ = nullptr;
  QSpinBox* disk_offset_ = nullptr;
  QSpinBox* serial_com_ = nullptr;
  QComboBox* serial_dir_ = nullptr;
  QComboBox* serial_action_ = nullptr;
  QSpinBox* irq_line_ = nullptr;
  QComboBox* irq_kind_ = nullptr;
  QLineEdit* address_ = nullptr;
  QComboBox* width_ = nullptr;  // memory and disk-corruption cells
  QComboBox* model_ = nullptr;
  QSpinBox* bit_ = nullptr;
  QLineEdit* value_ = nullptr;
  QComboBox* duration_ = nullptr;
  QLineEdit* duration_n_ = nullptr;
  QComboBox* trigger_ = nullptr;
  QLineEdit* trigger_value_ = nullptr;
  QSpinBox* occurrence_ = nullptr;
  QComboBox* access_ = nullptr;  // memory-access and port triggers
  QPushButton* inject_ = nullptr;
  QPushButton* arm_ = nullptr;
  QPushButton* disarm_ = nullptr;
  QPushButton* export_ = nullptr;
  QPlainTextEdit* log_ = nullptr;
};

}  // namespace faultline::gui
