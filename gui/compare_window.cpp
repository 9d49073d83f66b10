#include "gui/compare_window.h"

#include <QElapsedTimer>
#include <QFontDatabase>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
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
    : QWidget(parent, Qt::Window), lock_(std::make_unique<Lockstep>(origin)) {
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
  auto* controls = new QHBoxLayout;
  controls->addWidget(run_);
  controls->addWidget(pause_);
  controls->addWidget(step_);
  controls->addWidget(granularity_);
  controls->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(divergence_);
  layout->addWidget(sides, 1);

  connect(run_, &QPushButton::clicked, this, &CompareWindow::run);
  connect(pause_, &QPushButton::clicked, this, &CompareWindow::pause);
  connect(step_, &QPushButton::clicked, this, &CompareWindow::step);
  connect(panel_, &FaultPanel::injected, this, &CompareWindow::refresh);
  timer_ = new QTimer(this);
  timer_->setInterval(0);
  connect(timer_, &QTimer::timeout, this, &CompareWindow::burst);
  refresh();
}

CompareWindow::~CompareWindow() = default;

void CompareWindow::set_granularity(uint64_t ticks) { granularity_->setValue(static_cast<int>(ticks)); }

void CompareWindow::run() {
  if (running_ || lock_->finished()) return;
  running_ = true;
  timer_->start();
  refresh();
}

void CompareWindow::pause() {
  running_ = false;
  timer_->stop();
  refresh();
}

void CompareWindow::step() {
  if (running_) return;
  // An armed trigger fires inside the faulty run; log it.
  lock_->step(static_cast<uint64_t>(granularity_->value()));
  panel_->log_new_injections();
  refresh();
}

void CompareWindow::burst() {
  QElapsedTimer t;
  t.start();
  const bool had = lock_->divergence().has_value();
  while (t.elapsed() < 15 && !lock_->finished()) {
    if (lock_->step(static_cast<uint64_t>(granularity_->value())) && !had) break;
  }
  panel_->log_new_injections();
  if ((!had && lock_->divergence()) || lock_->finished()) {
    pause();
    return;
  }
  refresh();
}

QString CompareWindow::divergence_text() const { return divergence_->text(); }
QString CompareWindow::registers_text(bool faulty) const { return regs_[faulty ? 1 : 0]->toPlainText(); }

void CompareWindow::refresh() {
  Session* s[2] = {&lock_->golden(), &lock_->faulty()};
  const CpuState& g = s[0]->cpu()->s;
  const CpuState& f = s[1]->cpu()->s;
  for (int i = 0; i < 2; ++i) {
    if (PcPlatform* pc = s[i]->platform(); pc && pc->vga()) screen_[i]->set_frame(pc->vga()->render());
    const QString label = i == 0 ? tr("Golden") : tr("Faulty");
    status_[i]->setText(QString("<b>%1</b> — tick %L2 — %3")
                            .arg(label)
                            .arg(s[i]->cpu()->ticks())
                            .arg(s[i]->finished() ? QString::fromStdString(s[i]->finish_reason()).toHtmlEscaped()
                                                  : tr("running")));
    console_[i]->setPlainText(QString::fromLatin1(s[i]->console_output().c_str()));
    serial_[i]->setPlainText(QString::fromLatin1(s[i]->serial_output().c_str()).remove('\r'));
    const CpuState& me = s[i]->cpu()->s;
    const CpuState& other = i == 0 ? f : g;
    static const char* const kGpr[] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
    QString t;
    auto line = [&](const char* name, uint32_t a, uint32_t b) {
      t += QString("%1 %2 %3\n").arg(a != b ? "≠" : " ").arg(name, -6).arg(h32(a));
    };
    for (int r = 0; r < 8; ++r) line(kGpr[r], me.gpr[r], other.gpr[r]);
    line("EIP", me.eip, other.eip);
    line("EFLAGS", s[i]->cpu()->eflags(), s[1 - i]->cpu()->eflags());
    line("CR0", me.cr0, other.cr0);
    line("CR2", me.cr2, other.cr2);
    line("CR3", me.cr3, other.cr3);
    regs_[i]->setPlainText(t);
  }
  if (const auto& d = lock_->divergence()) {
    divergence_->setStyleSheet("QLabel { color: white; background: #c62828; padding: 4px; font-weight: bold; }");
    divergence_->setText(tr("First divergence (%1) at tick %L2 (in the step from tick %L3): %4")
                             .arg(to_string(d->kind))
                             .arg(d->tick)
                             .arg(d->window_start)
                             .arg(QString::fromStdString(d->what)));
  } else {
    divergence_->setStyleSheet("QLabel { padding: 4px; }");
    divergence_->setText(running_ ? tr("Running in lockstep: no divergence yet")
                                  : tr("No divergence yet: inject a fault into the faulty side, then run"));
  }
  run_->setEnabled(!running_ && !lock_->finished());
  pause_->setEnabled(running_);
  step_->setEnabled(!running_ && !lock_->finished());
}

}  // namespace faultline::gui
