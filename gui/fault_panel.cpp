#include "gui/fault_panel.h"

#include <QComboBox>
#include <QFormLayout>
#include <QFontDatabase>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <exception>

#include "faults/registers.h"
#include "gui/session.h"

namespace faultline::gui {

namespace {
const char* const kRegisters[] = {"eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags",
                                  "cs",  "ds",  "es",  "fs",  "gs",  "ss",  "cr0", "cr2", "cr3", "cr4"};
const char kPhysical[] = "physical address";
}  // namespace

bool parse_hex(const QString& text, uint64_t& value) {
  QString t = text.trimmed();
  if (t.startsWith("0x", Qt::CaseInsensitive)) t = t.mid(2);
  if (t.isEmpty()) return false;
  bool ok = false;
  value = t.toULongLong(&ok, 16);
  return ok;
}

FaultPanel::FaultPanel(Session& session, QWidget* parent) : QWidget(parent), session_(session) {
  target_ = new QComboBox(this);
  for (const char* r : kRegisters) target_->addItem(QString::fromLatin1(r));
  target_->addItem(QString::fromLatin1(kPhysical));
  address_ = new QLineEdit(this);
  address_->setPlaceholderText("hex, e.g. 0x100000");
  bit_ = new QSpinBox(this);
  bit_->setRange(0, 31);
  inject_ = new QPushButton(tr("Inject bit flip now"), this);
  log_ = new QPlainTextEdit(this);
  log_->setReadOnly(true);
  log_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));

  auto* form = new QFormLayout;
  form->addRow(tr("Target"), target_);
  form->addRow(tr("Address"), address_);
  form->addRow(tr("Bit"), bit_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(inject_);
  layout->addWidget(log_, 1);

  connect(target_, &QComboBox::currentIndexChanged, this, [this] { target_changed(); });
  connect(inject_, &QPushButton::clicked, this, [this] { inject(); });
  target_changed();
}

void FaultPanel::target_changed() {
  const bool phys = target_->currentText() == QLatin1String(kPhysical);
  address_->setEnabled(phys);
  if (phys) {
    bit_->setRange(0, 31);
  } else {
    auto info = faults::find_register(target_->currentText().toStdString());
    bit_->setRange(0, info ? static_cast<int>(info->bits) - 1 : 31);
  }
}

void FaultPanel::set_register_target(const QString& name) {
  int i = target_->findText(name.toLower());
  if (i >= 0) target_->setCurrentIndex(i);
}

void FaultPanel::set_physical_target(uint64_t address) {
  target_->setCurrentIndex(target_->findText(QString::fromLatin1(kPhysical)));
  address_->setText(QString("0x%1").arg(address, 0, 16));
}

void FaultPanel::set_bit(int bit) { bit_->setValue(bit); }

QString FaultPanel::log_text() const { return log_->toPlainText(); }

void FaultPanel::log(const QString& line) { log_->appendPlainText(line); }

bool FaultPanel::inject() {
  if (!session_.loaded()) {
    log(tr("no kernel loaded"));
    return false;
  }
  const unsigned bit = static_cast<unsigned>(bit_->value());
  pb::Fault f;
  QString what;
  if (target_->currentText() == QLatin1String(kPhysical)) {
    uint64_t addr = 0;
    if (!parse_hex(address_->text(), addr)) {
      log(tr("bad address '%1' (hexadecimal expected)").arg(address_->text()));
      return false;
    }
    f.set_physical_address(addr);
    f.set_width(bit < 8 ? 1 : bit < 16 ? 2 : 4);
    what = QString("phys 0x%1 bit %2").arg(addr, 0, 16).arg(bit);
  } else {
    f.set_register_name(target_->currentText().toStdString());
    what = QString("%1 bit %2").arg(target_->currentText()).arg(bit);
  }
  f.set_bit_mask(uint64_t{1} << bit);
  f.mutable_model()->mutable_bit_flip()->set_bits(1);
  f.mutable_duration()->set_transient(true);
  try {
    faults::InjectionRecord rec;
    std::exception_ptr error;
    auto body = [&] {
      try {
        rec = session_.inject_now(f);
      } catch (...) {
        error = std::current_exception();
      }
    };
    if (guard_) guard_(body);
    else body();
    if (error) std::rethrow_exception(error);
    if (!rec.injected) {
      log(tr("%1: not injected (%2)").arg(what, QString::fromStdString(rec.detail)));
      return false;
    }
    log(tr("@%1 insns: flipped %2: %3")
            .arg(rec.at_instruction)
            .arg(what, QString::fromStdString(rec.detail)));
  } catch (const std::exception& e) {
    log(tr("%1: %2").arg(what, QString::fromUtf8(e.what())));
    return false;
  }
  Q_EMIT injected();
  return true;
}

}  // namespace faultline::gui
