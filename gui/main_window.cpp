#include "gui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QKeyEvent>
#include <QLabel>
#include <QComboBox>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>
#include <algorithm>
#include <cstdio>
#include <exception>

#include "gui/campaign_monitor.h"
#include "gui/compare_window.h"
#include "gui/disasm.h"
#include "gui/fault_panel.h"
#include "experiments/store/store.h"
#include "gui/vga_view.h"

namespace faultline::gui {

namespace {

QPlainTextEdit* make_text_view(QWidget* parent) {
  auto* t = new QPlainTextEdit(parent);
  t->setReadOnly(true);
  t->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  t->setLineWrapMode(QPlainTextEdit::NoWrap);
  return t;
}

QString hex32(uint32_t v) { return QString("%1").arg(v, 8, 16, QChar('0')).toUpper(); }
QString hex16(uint32_t v) { return QString("%1").arg(v, 4, 16, QChar('0')).toUpper(); }
}  // namespace

MainWindow::MainWindow(uint64_t memory_mib, QWidget* parent)
    : QMainWindow(parent), session_(SessionConfig{memory_mib}), sim_(std::make_unique<SimThread>(session_)) {
  setWindowTitle("faultline");
  vga_ = new VgaView(this);
  vga_->set_key_handler([this](i8042::KeyCode key, bool pressed) { send_key(key, pressed); });
  vga_->set_mouse_handler([this](int dx, int dy, uint8_t buttons, int dz) { sim_->post_mouse(dx, dy, buttons, dz); });
  setCentralWidget(vga_);

  build_menus();
  build_docks();

  state_label_ = new QLabel(this);
  retired_label_ = new QLabel(this);
  mips_label_ = new QLabel(this);
  statusBar()->addWidget(state_label_, 1);
  time_label_ = new QLabel(this);
  statusBar()->addPermanentWidget(time_label_);
  statusBar()->addPermanentWidget(retired_label_);
  statusBar()->addPermanentWidget(mips_label_);

  frame_timer_ = new QTimer(this);
  frame_timer_->setInterval(16);  // up to 60 frames a second (only changed ones repaint)
  connect(frame_timer_, &QTimer::timeout, this, [this] { poll_worker(); });

  update_actions();
  refresh();
}

MainWindow::~MainWindow() { sim_->pause(); }

void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open_mb = file->addAction(tr("Open &multiboot kernel…"));
  connect(open_mb, &QAction::triggered, this, [this] {
    QString path = QFileDialog::getOpenFileName(this, tr("Open multiboot kernel"), {}, tr("ELF kernels (*.elf);;All files (*)"));
    if (!path.isEmpty()) open_multiboot(path);
  });
  QAction* open_disk_act = file->addAction(tr("Boot &disk image (SeaBIOS)…"));
  connect(open_disk_act, &QAction::triggered, this, [this] {
    QString disk = QFileDialog::getOpenFileName(this, tr("Disk image to boot"));
    if (!disk.isEmpty()) open_firmware(disk);
  });
  QAction* open_linux_act = file->addAction(tr("Open &Linux bzImage…"));
  connect(open_linux_act, &QAction::triggered, this, [this] {
    QString kernel = QFileDialog::getOpenFileName(this, tr("Open Linux bzImage"));
    if (kernel.isEmpty()) return;
    QString initrd = QFileDialog::getOpenFileName(this, tr("Optional initrd (cancel for none)"));
    bool ok = false;
    QString cmdline = QInputDialog::getText(this, tr("Kernel command line"), tr("Command line:"), QLineEdit::Normal,
                                            "console=ttyS0", &ok);
    open_linux(kernel, initrd, ok ? cmdline : QString("console=ttyS0"));
  });
  QAction* open_file = file->addAction(tr("Open &experiment file…"));
  connect(open_file, &QAction::triggered, this, [this] {
    QString path = QFileDialog::getOpenFileName(this, tr("Open experiment file"), {},
                                                tr("Experiment files (*.textproto);;All files (*)"));
    if (!path.isEmpty()) open_experiment_file(path);
  });
  file->addSeparator();
  QAction* save_file = file->addAction(tr("&Save snapshot to file…"));
  connect(save_file, &QAction::triggered, this, [this] {
    if (!session_.loaded()) {
      show_error(tr("Cannot save a snapshot"), tr("no machine: load a kernel first"));
      return;
    }
    QFileDialog dialog(this, tr("Save snapshot to file"), {}, tr("faultline snapshots (*.flsnap);;All files (*)"));
    dialog.setAcceptMode(QFileDialog::AcceptSave);
    dialog.setDefaultSuffix("flsnap");
    if (dialog.exec() == QDialog::Accepted && !dialog.selectedFiles().isEmpty())
      save_snapshot_file(dialog.selectedFiles().front());
  });
  QAction* load_file = file->addAction(tr("&Load snapshot from file…"));
  connect(load_file, &QAction::triggered, this, [this] {
    QString path = QFileDialog::getOpenFileName(this, tr("Load snapshot from file"), {},
                                                tr("faultline snapshots (*.flsnap);;All files (*)"));
    if (!path.isEmpty()) load_snapshot_file(path);
  });
  file->addSeparator();
  QAction* open_campaign = file->addAction(tr("Open &campaign database…"));
  connect(open_campaign, &QAction::triggered, this, [this] {
    QString path = QFileDialog::getOpenFileName(this, tr("Open campaign database"), {},
                                                tr("Campaign databases (*.db *.sqlite);;All files (*)"));
    if (!path.isEmpty()) open_campaign_monitor(path, this);
  });
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"));
  quit->setShortcut(QKeySequence::Quit);
  connect(quit, &QAction::triggered, qApp, &QApplication::quit);

  QToolBar* tb = addToolBar(tr("Run control"));
  tb->setObjectName("run-control");
  run_act_ = tb->addAction(tr("Run"), this, &MainWindow::run);
  pause_act_ = tb->addAction(tr("Pause"), this, &MainWindow::pause);
  step_act_ = tb->addAction(tr("Step"), this, &MainWindow::step);
  reset_act_ = tb->addAction(tr("Reset"), this, &MainWindow::reset);
  power_act_ = tb->addAction(tr("Power off"), this, &MainWindow::power_off);
  run_act_->setShortcut(Qt::Key_F5);
  step_act_->setShortcut(Qt::Key_F10);
  save_snap_act_ = tb->addAction(tr("Save snapshot"), this, &MainWindow::save_snapshot);
  load_snap_act_ = tb->addAction(tr("Load snapshot"), this, &MainWindow::load_snapshot);
  QMenu* machine = menuBar()->addMenu(tr("&Machine"));
  machine->addAction(run_act_);
  machine->addAction(pause_act_);
  machine->addAction(step_act_);
  machine->addAction(reset_act_);
  machine->addAction(power_act_);
  machine->addSeparator();
  machine->addAction(save_snap_act_);
  machine->addAction(load_snap_act_);
  machine->addSeparator();
  QAction* fork = machine->addAction(tr("&Fork golden vs faulty…"));
  connect(fork, &QAction::triggered, this, [this] { open_compare(); });
}

void MainWindow::build_docks() {
  // Registers.
  registers_ = make_text_view(this);
  auto* reg_dock = new QDockWidget(tr("Registers"), this);
  reg_dock->setObjectName("registers");
  reg_dock->setWidget(registers_);
  addDockWidget(Qt::RightDockWidgetArea, reg_dock);

  // Memory.
  auto* mem = new QWidget(this);
  mem_address_ = new QLineEdit("0x100000", mem);
  auto* show = new QPushButton(tr("Show"), mem);
  memory_ = make_text_view(mem);
  mem_space_ = new QComboBox(mem);
  mem_space_->addItem(tr("physical"));
  mem_space_->addItem(tr("virtual (page tables)"));
  auto* row = new QHBoxLayout;
  row->addWidget(mem_space_);
  row->addWidget(new QLabel(tr("address:"), mem));
  row->addWidget(mem_address_, 1);
  row->addWidget(show);
  auto* mem_layout = new QVBoxLayout(mem);
  mem_layout->setContentsMargins(2, 2, 2, 2);
  mem_layout->addLayout(row);
  mem_layout->addWidget(memory_, 1);
  connect(show, &QPushButton::clicked, this, [this] { refresh_memory(); });
  connect(mem_address_, &QLineEdit::returnPressed, this, [this] { refresh_memory(); });
  connect(mem_space_, &QComboBox::currentIndexChanged, this, [this] {
    if (!running_) refresh_memory();
  });
  auto* mem_dock = new QDockWidget(tr("Memory"), this);
  mem_dock->setObjectName("memory");
  mem_dock->setWidget(mem);
  addDockWidget(Qt::BottomDockWidgetArea, mem_dock);

  // Fault panel.
  faults_ = new FaultPanel(session_, this);
  faults_->set_machine_guard([this](const std::function<void()>& fn) { sim_->with_machine(fn); });
  connect(faults_, &FaultPanel::injected, this, [this] {
    if (running_) return;  // the worker owns the machine; shown on pause
    refresh_registers();
    refresh_memory();
  });
  auto* fault_dock = new QDockWidget(tr("Fault injection"), this);
  fault_dock->setObjectName("faults");
  fault_dock->setWidget(faults_);
  addDockWidget(Qt::RightDockWidgetArea, fault_dock);

  // Disassembly and breakpoints.
  auto* dis = new QWidget(this);
  disasm_ = make_text_view(dis);
  bp_edit_ = new QLineEdit(dis);
  bp_edit_->setPlaceholderText(tr("breakpoint: hex address or symbol[+off]"));
  auto* bp_add = new QPushButton(tr("Add"), dis);
  auto* bp_del = new QPushButton(tr("Remove"), dis);
  bp_list_ = new QListWidget(dis);
  bp_list_->setMaximumHeight(90);
  auto* bp_row = new QHBoxLayout;
  bp_row->addWidget(bp_edit_, 1);
  bp_row->addWidget(bp_add);
  bp_row->addWidget(bp_del);
  auto* dis_layout = new QVBoxLayout(dis);
  dis_layout->setContentsMargins(2, 2, 2, 2);
  dis_layout->addWidget(disasm_, 1);
  dis_layout->addLayout(bp_row);
  dis_layout->addWidget(bp_list_);
  connect(bp_add, &QPushButton::clicked, this, [this] { add_breakpoint(); });
  connect(bp_edit_, &QLineEdit::returnPressed, this, [this] { add_breakpoint(); });
  connect(bp_del, &QPushButton::clicked, this, [this] { remove_breakpoint(); });
  auto* dis_dock = new QDockWidget(tr("Disassembly and breakpoints"), this);
  dis_dock->setObjectName("disassembly");
  dis_dock->setWidget(dis);
  addDockWidget(Qt::RightDockWidgetArea, dis_dock);
  tabifyDockWidget(reg_dock, dis_dock);
  reg_dock->raise();

  // Consoles.
  auto* tabs = console_tabs_ = new QTabWidget(this);
  auto* com1 = new QWidget(tabs);
  serial_ = make_text_view(com1);
  serial_input_ = new QLineEdit(com1);
  serial_input_->setPlaceholderText(tr("type a line for COM1 and press Enter"));
  auto* com1_layout = new QVBoxLayout(com1);
  com1_layout->setContentsMargins(0, 0, 0, 0);
  com1_layout->addWidget(serial_, 1);
  com1_layout->addWidget(serial_input_);
  connect(serial_input_, &QLineEdit::returnPressed, this, [this] {
    send_serial(serial_input_->text() + "\n");
    serial_input_->clear();
  });
  console_ = make_text_view(tabs);
  tabs->addTab(com1, tr("COM1"));
  tabs->addTab(console_, tr("Debug console (0xE9)"));
  auto* con_dock = new QDockWidget(tr("Console"), this);
  con_dock->setObjectName("console");
  con_dock->setWidget(tabs);
  addDockWidget(Qt::BottomDockWidgetArea, con_dock);
  splitDockWidget(con_dock, mem_dock, Qt::Horizontal);
  resizeDocks({reg_dock}, {380}, Qt::Horizontal);
  resizeDocks({con_dock, mem_dock}, {600, 600}, Qt::Horizontal);
  resizeDocks({con_dock}, {230}, Qt::Vertical);
  resizeDocks({reg_dock, fault_dock}, {360, 260}, Qt::Vertical);
}

bool MainWindow::open_multiboot(const QString& path, const QString& cmdline) {
  pause();
  try {
    session_.load_multiboot(path.toStdString(), cmdline.toStdString());
  } catch (const std::exception& e) {
    show_error(tr("Cannot load multiboot kernel"), QString::fromUtf8(e.what()));
    after_load();
    return false;
  }
  after_load();
  return true;
}

namespace {
std::vector<std::string> to_std(const QStringList& list) {
  std::vector<std::string> out;
  for (const QString& s : list) out.push_back(s.toStdString());
  return out;
}
}  // namespace

bool MainWindow::open_linux(const QString& kernel, const QString& initrd, const QString& cmdline,
                            const QStringList& disks) {
  pause();
  try {
    session_.load_linux(kernel.toStdString(), initrd.toStdString(), cmdline.toStdString(), to_std(disks));
  } catch (const std::exception& e) {
    show_error(tr("Cannot load Linux kernel"), QString::fromUtf8(e.what()));
    after_load();
    return false;
  }
  after_load();
  return true;
}

bool MainWindow::open_firmware(const QStringList& disks, const QString& bios, const QString& vga_bios) {
  pause();
  try {
    session_.load_firmware(to_std(disks), bios.toStdString(), vga_bios.toStdString());
  } catch (const std::exception& e) {
    show_error(tr("Cannot boot the disk image"), QString::fromUtf8(e.what()));
    after_load();
    return false;
  }
  after_load();
  return true;
}

bool MainWindow::open_experiment_file(const QString& path) {
  pause();
  try {
    session_.load_experiment_file(path.toStdString());
  } catch (const std::exception& e) {
    show_error(tr("Cannot load the experiment file"), QString::fromUtf8(e.what()));
    after_load();
    return false;
  }
  after_load();
  return true;
}

bool MainWindow::open_experiment(const QString& db, quint64 id) {
  pause();
  try {
    QApplication::setOverrideCursor(Qt::WaitCursor);
    session_.load_experiment(db.toStdString(), id);
    QApplication::restoreOverrideCursor();
  } catch (const std::exception& e) {
    QApplication::restoreOverrideCursor();
    show_error(tr("Cannot replay experiment %1").arg(id), QString::fromUtf8(e.what()));
    after_load();
    return false;
  }
  after_load();
  if (const pb::ExperimentResult* r = session_.stored_experiment()) {
    setWindowTitle(tr("faultline — replay of experiment %1 of %2").arg(id).arg(QFileInfo(db).fileName()));
    faults_->log_external(tr("replaying experiment %1: %2 — stored outcome %3 (%4), injected at tick %5")
                              .arg(id)
                              .arg(QString::fromStdString(store::fault_text(r->fault())))
                              .arg(QString::fromStdString(pb::Outcome_Name(r->outcome())))
                              .arg(QString::fromStdString(r->end_reason()))
                              .arg(r->trigger_instruction()));
  }
  return true;
}

CampaignMonitor* MainWindow::open_campaign_monitor(const QString& db, QWidget* parent_for_errors) {
  CampaignMonitor* mon = nullptr;
  try {
    mon = new CampaignMonitor(db);
  } catch (const std::exception& e) {
    if (QApplication::platformName() != "offscreen")
      QMessageBox::warning(parent_for_errors, tr("Cannot open campaign database"), QString::fromUtf8(e.what()));
    else
      std::fprintf(stderr, "faultline-gui: cannot open campaign database: %s\n", e.what());
    return nullptr;
  }
  mon->setAttribute(Qt::WA_DeleteOnClose);
  mon->resize(1200, 800);
  connect(mon, &CampaignMonitor::replay_requested, mon, [](const QString& path, quint64 id) {
    auto* w = new MainWindow(64);
    w->setAttribute(Qt::WA_DeleteOnClose);
    w->resize(1280, 860);
    w->show();
    w->open_experiment(path, id);
  });
  mon->show();
  return mon;
}

void MainWindow::after_load() {
  shown_console_ = shown_serial_ = 0;
  serial_->clear();
  console_->clear();
  mips_ = 0;
  real_ms_ = 0;
  faults_->sync_log();
  session_history_seen_ = session_.history().size();
  if (session_.loaded()) {
    setWindowTitle(QString("faultline — %1").arg(QFileInfo(QString::fromStdString(session_.kernel_path())).fileName()));
    // Linux guests print to COM1, multiboot kernels to the debug console.
    console_tabs_->setCurrentIndex(session_.kind() == GuestKind::Linux ? 0 : 1);
  }
  update_actions();
  refresh();
}

void MainWindow::show_error(const QString& what, const QString& detail) {
  statusBar()->showMessage(what + ": " + detail, 10000);
  if (QApplication::platformName() != "offscreen") QMessageBox::warning(this, what, detail);
}

void MainWindow::run() {
  if (!session_.loaded() || session_.finished() || running_) return;
  running_ = true;
  mips_clock_.start();
  mips_retired_ = session_.retired();
  sim_->run();
  frame_timer_->start();
  update_actions();
  refresh();
}

void MainWindow::pause() {
  if (!running_) return;
  sim_->pause();
  running_ = false;
  if (run_clock_.isValid()) real_ms_ += run_clock_.elapsed();
  run_clock_.invalidate();
  frame_timer_->stop();
  update_actions();
  refresh();
}

void MainWindow::step() {
  if (running_ || !session_.loaded() || session_.finished()) return;
  session_.run_slice(1);
  update_actions();
  refresh();
}

void MainWindow::reset() {
  if (!session_.loaded()) return;
  const bool was_running = running_;
  pause();
  try {
    session_.reset();
  } catch (const std::exception& e) {
    show_error(tr("Reset failed"), QString::fromUtf8(e.what()));
  }
  after_load();
  if (was_running) run();
}

void MainWindow::power_off() {
  if (!session_.loaded()) return;
  pause();
  session_.power_off();
  update_actions();
  refresh();
}

void MainWindow::poll_worker() {
  if (!running_) return;
  if (!sim_->running()) {
    // The guest finished or hit a breakpoint on the worker.
    const SimThread::Status st = sim_->status();
    pause();
    if (st.breakpoint_hits != bp_hits_seen_) {
      bp_hits_seen_ = st.breakpoint_hits;
      const QString sym = QString::fromStdString(symbolize(st.breakpoint, session_.symbols()));
      statusBar()->showMessage(tr("Breakpoint at %1%2").arg(hex32(st.breakpoint), sym.isEmpty() ? QString() : " <" + sym + ">"), 10000);
    }
    faults_->log_new_injections();
    if (!session_.replay_verdict().empty()) faults_->log_external(QString::fromStdString(session_.replay_verdict()));
    return;
  }
  if (sim_->status().injections != session_history_seen_) {
    // An armed trigger fired on the worker: log it between two slices.
    faults_->log_new_injections();
    session_history_seen_ = sim_->status().injections;
  }
  sim_->request_frame();
  refresh();
}

void MainWindow::send_key(i8042::KeyCode key, bool pressed) { sim_->post_key(key, pressed); }

void MainWindow::update_actions() {
  const bool can_run = session_.loaded() && !session_.finished();
  run_act_->setEnabled(can_run && !running_);
  pause_act_->setEnabled(running_);
  step_act_->setEnabled(can_run && !running_);
  reset_act_->setEnabled(session_.loaded());
  power_act_->setEnabled(session_.loaded() && !session_.finished());
  save_snap_act_->setEnabled(session_.loaded() && !running_);
  load_snap_act_->setEnabled(session_.has_snapshot() && !running_);
}

void MainWindow::refresh() {
  uint64_t retired = 0;
  if (running_) {
    // The worker owns the machine: show what it published.
    Image frame;
    if (sim_->take_frame(frame)) vga_->set_frame(frame);
    retired = sim_->status().retired;
  } else {
    if (PcPlatform* pc = session_.platform(); pc && pc->vga()) vga_->set_frame(pc->vga()->render());
    else vga_->set_frame(QImage());
    retired = session_.retired();
  }
  refresh_consoles();

  QString state;
  if (!session_.loaded()) state = tr("No kernel");
  else if (!running_ && session_.finished()) state = tr("Finished: %1").arg(QString::fromStdString(session_.finish_reason()));
  else if (running_) state = tr("Running");
  else state = tr("Paused");
  state_label_->setText(state);
  retired_label_->setText(tr("%L1 instructions").arg(retired));
  if (running_) {
    const SimThread::Status st = sim_->status();
    virtual_ns_ = st.virtual_ns;
  } else {
    virtual_ns_ = session_.machine() ? session_.machine()->now_ns() : 0;
  }
  if (running_ && !run_clock_.isValid()) run_clock_.start();
  time_label_->setText(tr("virtual %1 s / real %2 s")
                           .arg(static_cast<double>(virtual_ns_) / 1e9, 0, 'f', 3)
                           .arg(static_cast<double>(real_ms_ + (running_ ? run_clock_.elapsed() : 0)) / 1000.0, 0, 'f', 1));
  if (running_ && mips_clock_.isValid()) {
    const qint64 ms = mips_clock_.elapsed();
    if (ms >= 500) {
      mips_ = static_cast<double>(retired - mips_retired_) / (static_cast<double>(ms) * 1000.0);
      mips_retired_ = retired;
      mips_clock_.restart();
    }
  }
  mips_label_->setText(tr("%1 MIPS").arg(mips_, 0, 'f', 1));
  if (!running_) {
    refresh_registers();
    refresh_memory();
    refresh_disassembly();
  }
}

void MainWindow::refresh_consoles() {
  auto append = [](QPlainTextEdit* view, const std::string& text, size_t& shown) {
    if (text.size() < shown) {
      view->clear();
      shown = 0;
    }
    if (text.size() == shown) return;
    QString add = QString::fromLatin1(text.data() + shown, static_cast<qsizetype>(text.size() - shown));
    add.remove('\r');
    shown = text.size();
    view->moveCursor(QTextCursor::End);
    view->insertPlainText(add);
    view->verticalScrollBar()->setValue(view->verticalScrollBar()->maximum());
  };
  if (running_) {
    append(serial_, sim_->serial_output(), shown_serial_);
    append(console_, sim_->console_output(), shown_console_);
  } else {
    append(serial_, session_.serial_output(), shown_serial_);
    append(console_, session_.console_output(), shown_console_);
  }
}

void MainWindow::refresh_registers() {
  Cpu* cpu = session_.cpu();
  if (!cpu) {
    registers_->setPlainText(tr("(no machine)"));
    return;
  }
  const CpuState& s = cpu->s;
  static const char* const kGpr[] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
  QString t;
  for (int i = 0; i < 8; ++i) t += QString("%1 %2\n").arg(kGpr[i], hex32(s.gpr[i]));
  t += QString("EIP %1\nEFL %2\n\n").arg(hex32(s.eip), hex32(cpu->eflags()));
  static const struct {
    const char* name;
    SegReg reg;
  } kSegs[] = {{"CS", CS}, {"DS", DS}, {"ES", ES}, {"FS", FS}, {"GS", GS}, {"SS", SS}};
  for (const auto& sg : kSegs) {
    const SegmentCache& c = s.seg[sg.reg];
    t += QString("%1  %2  base %3 limit %4\n").arg(sg.name, hex16(c.selector), hex32(c.base), hex32(c.limit));
  }
  t += QString("\nCR0 %1\nCR2 %2\nCR3 %3\nCR4 %4\nCPL %5%6")
           .arg(hex32(s.cr0), hex32(s.cr2), hex32(s.cr3), hex32(s.cr4))
           .arg(s.cpl)
           .arg(s.halted ? "  (halted)" : "");
  const FpuState& f = s.fpu;
  const unsigned top = (f.status >> 11) & 7;
  t += QString("\n\nFCW %1  FSW %2  FTW %3  TOP %4\n").arg(hex16(f.control), hex16(f.status), hex16(f.tag)).arg(top);
  for (unsigned i = 0; i < 8; ++i) {
    const unsigned phys = (top + i) & 7;
    const bool empty = ((f.tag >> (2 * phys)) & 3) == 3;
    t += QString("ST%1 %2\n").arg(i).arg(empty ? QString("(empty)") : QString::number(static_cast<double>(f.st[phys]), 'g', 17));
  }
  registers_->setPlainText(t);
}

void MainWindow::refresh_memory() {
  Cpu* cpu = session_.cpu();
  if (!cpu) {
    memory_->setPlainText(tr("(no machine)"));
    return;
  }
  uint64_t base = 0;
  if (!parse_hex(mem_address_->text(), base)) {
    memory_->setPlainText(tr("bad address (hexadecimal expected)"));
    return;
  }
  base &= ~uint64_t{15};
  uint8_t bytes[256];
  bool ok[256];
  const bool virt = mem_space_->currentIndex() == 1;
  if (virt && base > 0xFFFFFFFFull) {
    memory_->setPlainText(tr("invalid virtual address (32-bit expected)"));
    return;
  }
  for (size_t i = 0; i < 256; ++i) {
    uint64_t pa = base + i;
    if (virt) {
      uint32_t p32 = 0;
      ok[i] = cpu->translate_debug(static_cast<uint32_t>(base + i), p32);
      pa = p32;
      if (!ok[i]) continue;
    }
    ok[i] = cpu->read_phys(pa, &bytes[i], 1);
  }
  QString t;
  for (size_t line = 0; line < 16; ++line) {
    t += QString("%1 ").arg(base + line * 16, 8, 16, QChar('0')).toUpper();
    QString ascii;
    for (size_t i = line * 16; i < line * 16 + 16; ++i) {
      t += ok[i] ? QString(" %1").arg(bytes[i], 2, 16, QChar('0')).toUpper() : QString(" ??");
      ascii += ok[i] && bytes[i] >= 0x20 && bytes[i] < 0x7F ? QChar(bytes[i]) : QChar('.');
    }
    t += "  " + ascii + "\n";
  }
  memory_->setPlainText(t);
}

}  // namespace faultline::gui

namespace faultline::gui {

void MainWindow::refresh_disassembly() {
  Cpu* cpu = session_.cpu();
  if (!cpu) {
    disasm_->setPlainText(tr("(no machine)"));
    return;
  }
  QString t;
  const auto& bps = session_.breakpoints();
  for (const DisasmLine& l : disassemble_around_eip(*cpu, 8, 24, session_.symbols())) {
    if (!l.symbol.empty() && l.symbol.find('+') == std::string::npos) t += QString("<%1>:\n").arg(QString::fromStdString(l.symbol));
    const bool bp = std::find(bps.begin(), bps.end(), l.address) != bps.end();
    t += QString("%1%2 %3  %4  %5\n")
             .arg(l.current ? "=>" : "  ")
             .arg(bp ? "*" : " ")
             .arg(hex32(l.address))
             .arg(QString::fromStdString(l.bytes), -16)
             .arg(QString::fromStdString(l.text));
  }
  disasm_->setPlainText(t);
}

bool MainWindow::add_breakpoint_text(const QString& text) {
  uint64_t addr = 0;
  QString name = text.trimmed();
  if (!parse_hex(name, addr)) {
    uint64_t off = 0;
    if (int plus = static_cast<int>(name.indexOf('+')); plus > 0) {
      if (!parse_hex(name.mid(plus + 1), off)) {
        show_error(tr("Invalid breakpoint"), tr("bad offset in '%1'").arg(text));
        return false;
      }
      name = name.left(plus).trimmed();
    }
    const SymbolTable* syms = session_.symbols();
    auto sym = syms ? syms->find(name.toStdString()) : std::nullopt;
    if (!sym) {
      show_error(tr("Invalid breakpoint"),
                 syms ? tr("'%1' is neither a hex address nor a symbol of the kernel").arg(text)
                      : tr("'%1' is not a hex address (this kernel has no symbols)").arg(text));
      return false;
    }
    addr = sym->value + off;
  }
  if (addr > 0xFFFFFFFFull) {
    show_error(tr("Invalid breakpoint"), tr("'%1' is beyond 32 bits").arg(text));
    return false;
  }
  std::vector<uint32_t> bps = session_.breakpoints();
  if (std::find(bps.begin(), bps.end(), static_cast<uint32_t>(addr)) != bps.end()) return true;
  bps.push_back(static_cast<uint32_t>(addr));
  sim_->with_machine([&] { session_.set_breakpoints(bps); });
  const QString sym = QString::fromStdString(symbolize(static_cast<uint32_t>(addr), session_.symbols()));
  auto* item = new QListWidgetItem(hex32(static_cast<uint32_t>(addr)) + (sym.isEmpty() ? QString() : "  <" + sym + ">"));
  item->setData(Qt::UserRole, static_cast<quint64>(addr));
  bp_list_->addItem(item);
  if (!running_) refresh_disassembly();
  return true;
}

void MainWindow::add_breakpoint() {
  if (add_breakpoint_text(bp_edit_->text())) bp_edit_->clear();
}

void MainWindow::remove_breakpoint() {
  QListWidgetItem* item = bp_list_->currentItem();
  if (!item) return;
  const auto addr = static_cast<uint32_t>(item->data(Qt::UserRole).toULongLong());
  std::vector<uint32_t> bps = session_.breakpoints();
  bps.erase(std::remove(bps.begin(), bps.end(), addr), bps.end());
  sim_->with_machine([&] { session_.set_breakpoints(bps); });
  delete item;
  if (!running_) refresh_disassembly();
}

void MainWindow::save_snapshot() {
  if (!session_.loaded()) return;
  pause();
  try {
    session_.save_snapshot();
    statusBar()->showMessage(tr("Snapshot saved at tick %L1").arg(session_.snapshot_ticks()), 5000);
  } catch (const std::exception& e) {
    show_error(tr("Cannot save a snapshot"), QString::fromUtf8(e.what()));
  }
  update_actions();
}

void MainWindow::load_snapshot() {
  if (!session_.has_snapshot()) return;
  pause();
  try {
    session_.load_snapshot();
    faults_->sync_log();
    session_history_seen_ = session_.history().size();
    statusBar()->showMessage(tr("Snapshot of tick %L1 loaded").arg(session_.snapshot_ticks()), 5000);
  } catch (const std::exception& e) {
    show_error(tr("Cannot load the snapshot"), QString::fromUtf8(e.what()));
  }
  update_actions();
  refresh();
}

bool MainWindow::save_snapshot_file(const QString& path) {
  pause();
  bool ok = false;
  try {
    session_.save_snapshot_file(path.toStdString());
    statusBar()->showMessage(
        tr("Snapshot of tick %L1 saved to %2").arg(session_.cpu()->ticks()).arg(QFileInfo(path).fileName()), 5000);
    ok = true;
  } catch (const std::exception& e) {
    show_error(tr("Cannot save the snapshot file"), QString::fromUtf8(e.what()));
  }
  update_actions();
  return ok;
}

bool MainWindow::load_snapshot_file(const QString& path) {
  pause();
  bool ok = false;
  QString error;
  try {
    session_.load_snapshot_file(path.toStdString());
    ok = true;
  } catch (const std::exception& e) {
    error = QString::fromUtf8(e.what());
  }
  after_load();  // the fault log, consoles and title follow the session
  if (ok) {
    statusBar()->showMessage(
        tr("Snapshot %1 loaded at tick %L2").arg(QFileInfo(path).fileName()).arg(session_.cpu()->ticks()), 5000);
    faults_->log_external(tr("snapshot %1 loaded at tick %2 (%3 hand-made faults before it)")
                              .arg(path)
                              .arg(session_.cpu()->ticks())
                              .arg(session_.history().size()));
  } else
    show_error(tr("Cannot load the snapshot file"), error);
  return ok;
}

void MainWindow::show_memory(const QString& address, bool virtual_space) {
  mem_space_->setCurrentIndex(virtual_space ? 1 : 0);
  mem_address_->setText(address);
  refresh_memory();
}

QString MainWindow::memory_text() const { return memory_->toPlainText(); }
QString MainWindow::disassembly_text() const { return disasm_->toPlainText(); }
QString MainWindow::status_text() const { return statusBar()->currentMessage(); }

bool MainWindow::send_serial(const QString& text) {
  bool ok = false;
  const QByteArray bytes = text.toLatin1();
  sim_->with_machine([&] {
    PcPlatform* pc = session_.platform();
    if (Uart* com1 = pc ? pc->com(0) : nullptr) {
      com1->receive(std::string_view(bytes.constData(), static_cast<size_t>(bytes.size())));
      session_.note_serial_input(bytes.toStdString());
      ok = true;
    }
  });
  if (!ok) statusBar()->showMessage(tr("No COM1 on this machine"), 5000);
  return ok;
}

QString MainWindow::screen_text() {
  std::string text;
  sim_->with_machine([&] {
    if (PcPlatform* pc = session_.platform(); pc && pc->vga() && pc->vga()->text_mode()) text = pc->vga()->text_screen();
  });
  return QString::fromLatin1(text.c_str());
}

void MainWindow::type_text(const QString& text) {
  for (QChar ch : text) {
    int key = 0;
    QString t(ch);
    Qt::KeyboardModifiers mods = Qt::NoModifier;
    if (ch == '\n') {
      key = Qt::Key_Return;
      t = "\r";
    } else if (ch.isLetter()) {
      key = Qt::Key_A + (ch.toUpper().unicode() - 'A');
      if (ch.isUpper()) mods = Qt::ShiftModifier;
    } else {
      key = ch.unicode();  // Qt key codes of printable ASCII are the characters
    }
    QKeyEvent shift_down(QEvent::KeyPress, Qt::Key_Shift, Qt::ShiftModifier);
    QKeyEvent shift_up(QEvent::KeyRelease, Qt::Key_Shift, Qt::NoModifier);
    QKeyEvent press(QEvent::KeyPress, key, mods, t);
    QKeyEvent release(QEvent::KeyRelease, key, mods, t);
    if (mods & Qt::ShiftModifier) QCoreApplication::sendEvent(vga_, &shift_down);
    QCoreApplication::sendEvent(vga_, &press);
    QCoreApplication::sendEvent(vga_, &release);
    if (mods & Qt::ShiftModifier) QCoreApplication::sendEvent(vga_, &shift_up);
  }
}

}  // namespace faultline::gui

namespace faultline::gui {

CompareWindow* MainWindow::open_compare() {
  if (!session_.loaded()) return nullptr;
  pause();
  CompareWindow* w = nullptr;
  try {
    w = new CompareWindow(session_);
  } catch (const std::exception& e) {
    show_error(tr("Cannot fork the machine"), QString::fromUtf8(e.what()));
    return nullptr;
  }
  w->setAttribute(Qt::WA_DeleteOnClose);
  w->resize(1400, 850);
  w->show();
  return w;
}

}  // namespace faultline::gui
