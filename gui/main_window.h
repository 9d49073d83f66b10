// The main window: VGA view in the middle, run control toolbar, register,
// memory, fault and console docks, and a status bar.
//
// Execution runs on a worker thread (SimThread); the GUI thread never
// touches the machine while it runs: a timer at about 30 Hz asks the worker
// for a frame and shows the frame, output and status it published. Whatever
// needs the machine (injection, reset, inspection) pauses the worker first
// (a handshake that waits at most one ~10 ms slice) or runs between two
// slices through SimThread::with_machine. Registers and memory are
// refreshed when the machine stops or steps.
#pragma once

#include <QElapsedTimer>
#include <QMainWindow>
#include <cstdint>
#include <memory>

#include "gui/session.h"
#include "gui/sim_thread.h"

class QAction;
class QComboBox;
class QListWidget;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QTabWidget;
class QTimer;

namespace faultline::gui {

class FaultPanel;
class VgaView;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(uint64_t memory_mib = 64, QWidget* parent = nullptr);
  ~MainWindow() override;

  Session& session() { return session_; }
  SimThread& sim() { return *sim_; }
  bool running() const { return running_; }
  VgaView* vga_view() const { return vga_; }
  FaultPanel* fault_panel() const { return faults_; }

  // Load a kernel (errors shown in a message box and returned as false).
  bool open_multiboot(const QString& path, const QString& cmdline = {});
  bool open_linux(const QString& kernel, const QString& initrd = {}, const QString& cmdline = {},
                  const QStringList& disks = {});
  // Firmware boot of disks[0] (bios/vga_bios "" = Debian's SeaBIOS and its
  // stdvga BIOS; vga_bios "none" = no VGA BIOS).
  bool open_firmware(const QStringList& disks, const QString& bios = {}, const QString& vga_bios = {});
  bool open_firmware(const QString& disk) { return open_firmware(QStringList{disk}); }
  // Boots an experiment file's workload (errors, with file:line:col, in a
  // message box and returned as false).
  bool open_experiment_file(const QString& path);
  // Replays experiment `id` of a campaign database (paused at its start).
  bool open_experiment(const QString& db, quint64 id);
  // Snapshot files (gui/snapshot_file.h): save the session / replace it by
  // the one saved in `path` (paused first; errors shown and returned as
  // false). The File menu asks for the path.
  bool save_snapshot_file(const QString& path);
  bool load_snapshot_file(const QString& path);
  // Opens a campaign monitor window (null and a message on error). The
  // monitor's double-click opens a new machine window replaying the row.
  static class CampaignMonitor* open_campaign_monitor(const QString& db, QWidget* parent_for_errors);

 public Q_SLOTS:
  void run();
  void pause();
  void step();
  void reset();
  // Stops the machine for good (reset starts it again).
  void power_off();
  // Inspection helpers (tests): breakpoints by hex address or symbol[+off],
  // the memory view's space, and what the views show.
  bool add_breakpoint_text(const QString& text);
  // Forks the machine into a golden/faulty side-by-side window (paused
  // first; null and a message on error).
  class CompareWindow* open_compare();
  void show_memory(const QString& address, bool virtual_space);
  QString memory_text() const;
  QString disassembly_text() const;
  QString status_text() const;
  // The VGA text screen now ("" without VGA or in graphics modes); reads
  // between two slices when running.
  QString screen_text();
  // Types `text` as key events on the VGA view (the keyboard path a user's
  // typing takes; '\n' is Enter).
  void type_text(const QString& text);
  // Sends bytes to COM1's receiver (the serial console's input line).
  bool send_serial(const QString& text);
  // Repaints the screen, consoles, status, and (when not running) the
  // register and memory views.
  void refresh();

 private:
  void build_menus();
  void build_docks();
  void poll_worker();
  void update_actions();
  void refresh_registers();
  void refresh_memory();
  void refresh_disassembly();
  void add_breakpoint();
  void remove_breakpoint();
  void save_snapshot();
  void load_snapshot();
  void refresh_consoles();
  void after_load();
  void send_key(i8042::KeyCode key, bool pressed);
  void show_error(const QString& what, const QString& detail);

  Session session_;
  std::unique_ptr<SimThread> sim_;  // destroyed (joined) before session_
  bool running_ = false;
  size_t session_history_seen_ = 0;
  QTimer* frame_timer_ = nullptr;
  QElapsedTimer mips_clock_;
  uint64_t mips_retired_ = 0;
  double mips_ = 0;
  size_t shown_console_ = 0, shown_serial_ = 0;

  VgaView* vga_ = nullptr;
  FaultPanel* faults_ = nullptr;
  QPlainTextEdit* registers_ = nullptr;
  QLineEdit* mem_address_ = nullptr;
  QPlainTextEdit* memory_ = nullptr;
  QComboBox* mem_space_ = nullptr;
  QPlainTextEdit* disasm_ = nullptr;
  QLineEdit* bp_edit_ = nullptr;
  QListWidget* bp_list_ = nullptr;
  QAction* save_snap_act_ = nullptr;
  QAction* load_snap_act_ = nullptr;
  uint64_t bp_hits_seen_ = 0;
  QPlainTextEdit* serial_ = nullptr;
  QLineEdit* serial_input_ = nullptr;
  QPlainTextEdit* console_ = nullptr;
  QTabWidget* console_tabs_ = nullptr;
  QLabel* state_label_ = nullptr;
  QLabel* retired_label_ = nullptr;
  QLabel* mips_label_ = nullptr;
  QAction* run_act_ = nullptr;
  QAction* pause_act_ = nullptr;
  QAction* step_act_ = nullptr;
  QAction* reset_act_ = nullptr;
  QAction* power_act_ = nullptr;
  QLabel* time_label_ = nullptr;
  QElapsedTimer run_clock_;
  qint64 real_ms_ = 0;
  uint64_t virtual_ns_ = 0;
};

}  // namespace faultline::gui
