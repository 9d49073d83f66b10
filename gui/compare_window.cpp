#include "gui/compare_window.h"

#include <QCloseEvent>
#include <QFontDatabase>
#include <QHeaderView>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include "gui/fault_panel.h"
#include "gui/vga_view.h"

namespace faultline::gui {

namespace {
QPlainTextEdit* text_view(QWidget* parent) {
  auto* t = new QPlainTextEdit(parent);
  t->setReadOnly(true);
  t->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  t->setLineWrapMode(QPlainTextEdit::NoWrap);
  return t;
}
QString h32(uint32_t v) { return QString("%1").arg(v, 8, 16, QChar('0')).toUpper(); }
}  // namespace

CompareWindow::CompareWindow(Session& origin, QWidget* parent)
    : QWidget(parent, Qt::Window),
      lock_(std::make_unique<Lockstep>(origin)),
      thread_(std::make_unique<LockstepThread>(*lock_)) {
  setWindowTitle(tr("faultline — golden vs faulty (forked at tick %L1)").arg(lock_->golden().cpu()->ticks()));
  auto* sides = new QSplitter(Qt::Horizontal, this);
  const char* const names[2] = {"Golden", "Faulty"};
  for (int i = 0; i < 2; ++i) {
    auto* box = new QWidget(sides);
    auto* l = new QVBoxLayout(box);
    l->setContentsMargins(2, 2, 2, 2);
    status_[i] = new QLabel(box);
    screen_[i] = new VgaView(box);
    screen_[i]->setMinimumSize(360, 270);
    auto* tabs = new QTabWidget(box);
    console_[i] = text_view(tabs);
    serial_[i] = text_view(tabs);
    regs_[i] = text_view(tabs);
    tabs->addTab(regs_[i], tr("Registers"));
    tabs->addTab(console_[i], tr("Debug console"));
    tabs->addTab(serial_[i], tr("COM1"));
    // Multiboot kernels talk on the debug console, Linux on COM1.
    tabs->setCurrentIndex(lock_->golden().kind() == GuestKind::Linux ? 2 : 1);
    l->addWidget(status_[i]);
    l->addWidget(screen_[i], 3);
    l->addWidget(tabs, 2);
    (void)names;
    sides->addWidget(box);
  }
  panel_ = new FaultPanel(lock_->faulty(), this);
  panel_->setMinimumWidth(380);
  // Injections into the faulty side happen between two lockstep steps.
  panel_->set_machine_guard([this](const std::function<void()>& fn) { thread_->with_machine(fn); });
  sides->addWidget(panel_);

  granularity_ = new QSpinBox(this);
  granularity_->setRange(1, 10'000'000);
  granularity_->setValue(1000);
  granularity_->setSuffix(tr(" instructions per step"));
  run_ = new QPushButton(tr("Run lockstep"), this);
  pause_ = new QPushButton(tr("Pause"), this);
  step_ = new QPushButton(tr("Step"), this);
  divergence_ = new QLabel(this);
  divergence_->setWordWrap(true);
  divergence_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  kinds_ = new QTableWidget(Divergence::kKinds, 3, this);
  kinds_->setHorizontalHeaderLabels({tr("First at tick"), tr("In the step from"), tr("What")});
  for (int k = 0; k < Divergence::kKinds; ++k)
    kinds_->setVerticalHeaderItem(k, new QTableWidgetItem(to_string(static_cast<Divergence::Kind>(k))));
  for (int k = 0; k < Divergence::kKinds; ++k)
    for (int c = 0; c < 3; ++c) kinds_->setItem(k, c, new QTableWidgetItem);
  kinds_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  kinds_->horizontalHeader()->setStretchLastSection(true);
  kinds_->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  kinds_->setMaximumHeight(kinds_->horizontalHeader()->sizeHint().height() + 6 * 26);
  auto* controls = new QHBoxLayout;
  controls->addWidget(run_);
  controls->addWidget(pause_);
  controls->addWidget(step_);
  controls->addWidget(granularity_);
  controls->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(divergence_);
  layout->addWidget(kinds_);
  layout->addWidget(sides, 1);

  connect(run_, &QPushButton::clicked, this, &CompareWindow::run);
  connect(pause_, &QPushButton::clicked, this, &CompareWindow::pause);
  connect(step_, &QPushButton::clicked, this, &CompareWindow::step);
  // A fault applied between steps is compared at once, so the table shows
  // the tick it was applied at.
  connect(panel_, &FaultPanel::injected, this, [this] {
    thread_->with_machine([this] { lock_->compare_now(); });
    refresh();
  });
  timer_ = new QTimer(this);
  timer_->setInterval(40);
  connect(timer_, &QTimer::timeout, this, &CompareWindow::poll);
  refresh();
}

CompareWindow::~CompareWindow() {
  timer_->stop();
  thread_.reset();  // joins the worker before the lockstep goes
}

void CompareWindow::closeEvent(QCloseEvent* event) {
  pause();
  QWidget::closeEvent(event);
}

void CompareWindow::set_granularity(uint64_t ticks) { granularity_->setValue(static_cast<int>(ticks)); }

void CompareWindow::run() {
  if (running() || lock_->finished()) return;
  thread_->run(static_cast<uint64_t>(granularity_->value()));
  timer_->start();
  refresh();
}

void CompareWindow::pause() {
  thread_->pause();
  timer_->stop();
  refresh();
}

void CompareWindow::step() {
  if (running() || lock_->finished()) return;
  thread_->step(static_cast<uint64_t>(granularity_->value()));
  timer_->start();
  refresh();
}

void CompareWindow::poll() {
  if (!running()) timer_->stop();  // the last view is taken with the worker idle
  refresh();
}

QString CompareWindow::divergence_text() const { return divergence_->text(); }
QString CompareWindow::registers_text(bool faulty) const { return regs_[faulty ? 1 : 0]->toPlainText(); }

QString CompareWindow::divergences_table_text() const {
  QString t;
  for (int k = 0; k < kinds_->rowCount(); ++k) {
    t += kinds_->verticalHeaderItem(k)->text();
    for (int c = 0; c < kinds_->columnCount(); ++c) t += "\t" + kinds_->item(k, c)->text();
    t += "\n";
  }
  return t;
}

void CompareWindow::refresh() {
  LockstepThread::View v = thread_->view();
  show_view(v);
}

void CompareWindow::show_view(LockstepThread::View& v) {
  const bool busy = running();
  // Armed triggers fire inside the faulty run: log what the session recorded.
  if (v.injections != injections_seen_) {
    panel_->log_new_injections();
    injections_seen_ = v.injections;
  }
  const CpuState& g = v.side[0].cpu;
  const CpuState& f = v.side[1].cpu;
  for (int i = 0; i < 2; ++i) {
    LockstepThread::Side& side = v.side[i];
    if (side.has_frame) screen_[i]->set_frame(side.frame);
    const QString label = i == 0 ? tr("Golden") : tr("Faulty");
    status_[i]->setText(QString("<b>%1</b> — tick %L2 — %3")
                            .arg(label)
                            .arg(side.ticks)
                            .arg(side.finished ? QString::fromStdString(side.finish_reason).toHtmlEscaped()
                                               : tr("running")));
    // Only changed text is set again (the output can be long).
    if (side.console != shown_console_[i]) {
      console_[i]->setPlainText(QString::fromLatin1(side.console.c_str()));
      shown_console_[i] = std::move(side.console);
    }
    if (side.serial != shown_serial_[i]) {
      serial_[i]->setPlainText(QString::fromLatin1(side.serial.c_str()).remove('\r'));
      shown_serial_[i] = std::move(side.serial);
    }
    const CpuState& me = side.cpu;
    const CpuState& other = i == 0 ? f : g;
    static const char* const kGpr[] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
    QString t;
    auto line = [&](const char* name, uint32_t a, uint32_t b) {
      t += QString("%1 %2 %3\n").arg(a != b ? "≠" : " ").arg(name, -6).arg(h32(a));
    };
    for (int r = 0; r < 8; ++r) line(kGpr[r], me.gpr[r], other.gpr[r]);
    line("EIP", me.eip, other.eip);
    line("EFLAGS", side.eflags, v.side[1 - i].eflags);
    line("CR0", me.cr0, other.cr0);
    line("CR2", me.cr2, other.cr2);
    line("CR3", me.cr3, other.cr3);
    regs_[i]->setPlainText(t);
  }
  if (const auto& d = v.first) {
    divergence_->setStyleSheet("QLabel { color: white; background: #c62828; padding: 4px; font-weight: bold; }");
    const QString where = d->window_start == d->tick ? tr("(applied between steps)")
                                                     : tr("(in the step from tick %L1)").arg(d->window_start);
    divergence_->setText(tr("First divergence (%1) at tick %L2 %3: %4")
                             .arg(to_string(d->kind))
                             .arg(d->tick)
                             .arg(where, QString::fromStdString(d->what)));
  } else {
    divergence_->setStyleSheet("QLabel { padding: 4px; }");
    divergence_->setText(busy ? tr("Running in lockstep: no divergence yet")
                              : tr("No divergence yet: inject a fault into the faulty side, then run"));
  }
  for (int k = 0; k < Divergence::kKinds; ++k) {
    const std::optional<Divergence>& d = v.by_kind[k];
    QString what = d ? QString::fromStdString(d->what) : tr("equal so far");
    if (static_cast<Divergence::Kind>(k) == Divergence::Kind::Memory && d)
      what += v.pages_differing == 1 ? tr("; now 1 page differs") : tr("; now %1 pages differ").arg(v.pages_differing);
    kinds_->item(k, 0)->setText(d ? QString("%L1").arg(d->tick) : QString());
    kinds_->item(k, 1)->setText(d ? QString("%L1").arg(d->window_start) : QString());
    kinds_->item(k, 2)->setText(what);
    kinds_->item(k, 2)->setForeground(d ? QColor(0xc6, 0x28, 0x28) : palette().color(QPalette::Text));
  }
  run_->setEnabled(!busy && !v.finished);
  pause_->setEnabled(busy);
  step_->setEnabled(!busy && !v.finished);
}

}  // namespace faultline::gui
