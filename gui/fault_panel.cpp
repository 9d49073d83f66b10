#include "gui/fault_panel.h"

#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <exception>
#include <vector>

#include "faults/registers.h"
#include "gui/experiment_export.h"
#include "gui/session.h"

namespace faultline::gui {

namespace {
const char* const kRegisters[] = {"eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags",
                                  "cs",  "ds",  "es",  "fs",  "gs",  "ss",  "cr0", "cr2", "cr3", "cr4",
                                  "st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7", "fcw", "fsw"};

bool parse_u64(const QString& text, uint64_t& v) {
  QString t = text.trimmed();
  bool ok = false;
  if (t.startsWith("0x", Qt::CaseInsensitive)) v = t.mid(2).toULongLong(&ok, 16);
  else v = t.toULongLong(&ok, 10);
  return ok && !t.isEmpty();
}
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
  target_kind_ = new QComboBox(this);
  target_kind_->addItem(tr("register"), static_cast<int>(Target::Register));
  target_kind_->addItem(tr("physical address"), static_cast<int>(Target::Physical));
  target_kind_->addItem(tr("virtual address"), static_cast<int>(Target::Virtual));
  target_kind_->addItem(tr("ELF symbol[+offset]"), static_cast<int>(Target::Symbol));
  target_kind_->addItem(tr("device register (e.g. pic.master.imr)"), static_cast<int>(Target::Device));
  register_ = new QComboBox(this);
  for (const char* r : kRegisters) register_->addItem(QString::fromLatin1(r));
  address_ = new QLineEdit(this);
  address_->setPlaceholderText(tr("hex address, or symbol+0x10"));
  width_ = new QComboBox(this);
  width_->addItems({"1", "2", "4"});
  model_ = new QComboBox(this);
  model_->addItem(tr("bit flip"), static_cast<int>(Model::BitFlip));
  model_->addItem(tr("stuck-at 0"), static_cast<int>(Model::StuckAt0));
  model_->addItem(tr("stuck-at 1"), static_cast<int>(Model::StuckAt1));
  model_->addItem(tr("set value"), static_cast<int>(Model::SetValue));
  model_->addItem(tr("random value"), static_cast<int>(Model::Random));
  bit_ = new QSpinBox(this);
  bit_->setRange(0, 31);
  value_ = new QLineEdit(this);
  value_->setPlaceholderText(tr("value (0x.. hex or decimal) / random seed"));
  duration_ = new QComboBox(this);
  duration_->addItem(tr("transient"), static_cast<int>(Duration::Transient));
  duration_->addItem(tr("intermittent (instructions)"), static_cast<int>(Duration::Intermittent));
  duration_->addItem(tr("permanent (memory)"), static_cast<int>(Duration::Permanent));
  duration_n_ = new QLineEdit("10000", this);
  trigger_ = new QComboBox(this);
  trigger_->addItem(tr("at instruction (tick)"), static_cast<int>(Trigger::Instruction));
  trigger_->addItem(tr("at virtual time (ns)"), static_cast<int>(Trigger::TimeNs));
  trigger_->addItem(tr("at PC (address or symbol)"), static_cast<int>(Trigger::Pc));
  trigger_value_ = new QLineEdit(this);
  trigger_value_->setMinimumWidth(120);
  trigger_value_->setPlaceholderText(tr("count / ns / PC"));
  occurrence_ = new QSpinBox(this);
  occurrence_->setRange(1, 1'000'000);
  occurrence_->setPrefix(tr("#"));
  inject_ = new QPushButton(tr("Inject now"), this);
  arm_ = new QPushButton(tr("Arm trigger"), this);
  disarm_ = new QPushButton(tr("Disarm"), this);
  export_ = new QPushButton(tr("Export experiment file…"), this);
  log_ = new QPlainTextEdit(this);
  log_->setReadOnly(true);
  log_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));

  auto* form = new QFormLayout;
  form->addRow(tr("Target"), target_kind_);
  form->addRow(tr("Register"), register_);
  auto* addr_row = new QHBoxLayout;
  addr_row->addWidget(address_, 1);
  addr_row->addWidget(width_);
  form->addRow(tr("Address / width"), addr_row);
  auto* model_row = new QHBoxLayout;
  model_row->addWidget(model_, 1);
  model_row->addWidget(bit_);
  form->addRow(tr("Model / bit"), model_row);
  form->addRow(tr("Value / seed"), value_);
  auto* dur_row = new QHBoxLayout;
  dur_row->addWidget(duration_, 1);
  dur_row->addWidget(duration_n_);
  form->addRow(tr("Duration"), dur_row);
  auto* trig_row = new QHBoxLayout;
  trig_row->addWidget(trigger_, 1);
  trig_row->addWidget(trigger_value_, 1);
  trig_row->addWidget(occurrence_);
  form->addRow(tr("Trigger"), trig_row);
  auto* buttons = new QGridLayout;
  buttons->addWidget(inject_, 0, 0);
  buttons->addWidget(arm_, 0, 1);
  buttons->addWidget(disarm_, 1, 0);
  buttons->addWidget(export_, 1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addWidget(log_, 1);

  for (QComboBox* c : {target_kind_, register_, model_, duration_, trigger_})
    connect(c, &QComboBox::currentIndexChanged, this, [this] { form_changed(); });
  connect(address_, &QLineEdit::textChanged, this, [this] { form_changed(); });
  connect(inject_, &QPushButton::clicked, this, [this] { inject(); });
  connect(arm_, &QPushButton::clicked, this, [this] { arm(); });
  connect(disarm_, &QPushButton::clicked, this, [this] { disarm(); });
  connect(export_, &QPushButton::clicked, this, [this] {
    QString path = QFileDialog::getSaveFileName(this, tr("Export experiment file"), "by_hand.textproto",
                                                tr("Experiment files (*.textproto)"));
    if (!path.isEmpty()) export_to(path);
  });
  form_changed();
}

void FaultPanel::form_changed() {
  const auto t = static_cast<Target>(target_kind_->currentData().toInt());
  const auto m = static_cast<Model>(model_->currentData().toInt());
  const bool reg = t == Target::Register;
  register_->setEnabled(reg);
  address_->setEnabled(!reg);
  width_->setEnabled(!reg);
  const bool bits = m == Model::BitFlip || m == Model::StuckAt0 || m == Model::StuckAt1;
  bit_->setEnabled(bits);
  value_->setEnabled(m == Model::SetValue || m == Model::Random);
  duration_n_->setEnabled(static_cast<Duration>(duration_->currentData().toInt()) == Duration::Intermittent);
  occurrence_->setEnabled(static_cast<Trigger>(trigger_->currentData().toInt()) == Trigger::Pc);
  if (reg) {
    auto info = faults::find_register(register_->currentText().toStdString());
    bit_->setRange(0, info ? static_cast<int>(info->bits) - 1 : 31);
  } else if (t == Target::Device) {
    width_->setEnabled(false);
    unsigned bits = 32;
    if (PcPlatform* pc = session_.platform())
      for (const FaultField& fld : pc->fault_fields())
        if (fld.name == address_->text().trimmed().toStdString()) bits = fld.bits;
    bit_->setRange(0, static_cast<int>(bits) - 1);
  } else {
    bit_->setRange(0, width_->currentText().toInt() * 8 - 1);
  }
}

void FaultPanel::set_register_target(const QString& name) {
  target_kind_->setCurrentIndex(target_kind_->findData(static_cast<int>(Target::Register)));
  int i = register_->findText(name.toLower());
  if (i >= 0) register_->setCurrentIndex(i);
}

void FaultPanel::set_physical_target(uint64_t address) {
  target_kind_->setCurrentIndex(target_kind_->findData(static_cast<int>(Target::Physical)));
  address_->setText(QString("0x%1").arg(address, 0, 16));
}

void FaultPanel::set_virtual_target(uint64_t address) {
  target_kind_->setCurrentIndex(target_kind_->findData(static_cast<int>(Target::Virtual)));
  address_->setText(QString("0x%1").arg(address, 0, 16));
}

void FaultPanel::set_symbol_target(const QString& symbol_plus_offset) {
  target_kind_->setCurrentIndex(target_kind_->findData(static_cast<int>(Target::Symbol)));
  address_->setText(symbol_plus_offset);
}

void FaultPanel::set_device_target(const QString& field) {
  target_kind_->setCurrentIndex(target_kind_->findData(static_cast<int>(Target::Device)));
  address_->setText(field);
  form_changed();
}

void FaultPanel::set_width(unsigned bytes) {
  width_->setCurrentText(QString::number(bytes));
  form_changed();
}

void FaultPanel::set_bit(int bit) {
  // Old callers pick a bit beyond one byte on a memory cell: widen it.
  if (static_cast<Target>(target_kind_->currentData().toInt()) != Target::Register && bit >= 8)
    set_width(bit < 16 ? 2 : 4);
  bit_->setValue(bit);
}

void FaultPanel::set_model(Model m) { model_->setCurrentIndex(model_->findData(static_cast<int>(m))); }
void FaultPanel::set_value(uint64_t v) { value_->setText(QString("0x%1").arg(v, 0, 16)); }

void FaultPanel::set_duration(Duration d, uint64_t instructions) {
  duration_->setCurrentIndex(duration_->findData(static_cast<int>(d)));
  if (instructions) duration_n_->setText(QString::number(instructions));
}

void FaultPanel::set_trigger(Trigger t, const QString& value, unsigned occurrence) {
  trigger_->setCurrentIndex(trigger_->findData(static_cast<int>(t)));
  trigger_value_->setText(value);
  occurrence_->setValue(static_cast<int>(occurrence));
}

QString FaultPanel::log_text() const { return log_->toPlainText(); }

void FaultPanel::log(const QString& line) { log_->appendPlainText(line); }

void FaultPanel::error(const QString& line) {
  log(line);
  if (QApplication::platformName() != "offscreen" && isVisible())
    QMessageBox::warning(this, tr("Fault injection"), line);
}

void FaultPanel::with_machine(const std::function<void()>& fn) {
  if (guard_) guard_(fn);
  else fn();
}

QString FaultPanel::describe(const pb::Fault& f) const {
  QString target;
  switch (f.target_case()) {
    case pb::Fault::kPhysicalAddress: target = QString("phys 0x%1").arg(f.physical_address(), 0, 16); break;
    case pb::Fault::kVirtualAddress: target = QString("virt 0x%1").arg(f.virtual_address(), 0, 16); break;
    case pb::Fault::kDeviceField: target = QString::fromStdString(f.device_field()); break;
    default: target = QString::fromStdString(f.register_name()); break;
  }
  int bit = -1;
  for (int b = 0; b < 64; ++b)
    if (f.bit_mask() == (uint64_t{1} << b)) bit = b;
  switch (f.model().kind_case()) {
    case pb::Model::kBitFlip: return QString("bit flip %1 bit %2").arg(target).arg(bit);
    case pb::Model::kStuckAt: return QString("stuck-at-%1 %2 bit %3").arg(f.model().stuck_at().value()).arg(target).arg(bit);
    case pb::Model::kSetValue: return QString("set %1 = 0x%2").arg(target).arg(f.model().set_value().value(), 0, 16);
    default: return QString("random value in %1 (seed %2)").arg(target).arg(f.random_seed());
  }
}

bool FaultPanel::build_fault(pb::Fault& f, QString& err, bool with_trigger) {
  f.Clear();
  const auto t = static_cast<Target>(target_kind_->currentData().toInt());
  const auto m = static_cast<Model>(model_->currentData().toInt());
  const unsigned width = width_->currentText().toUInt();
  const SymbolTable* syms = session_.symbols();
  // "name", "name+0x10", "name+16"
  auto resolve_symbol = [&](const QString& text, uint64_t& addr) {
    QString name = text.trimmed();
    uint64_t off = 0;
    if (int plus = static_cast<int>(name.indexOf('+')); plus > 0) {
      if (!parse_u64(name.mid(plus + 1), off)) {
        err = tr("bad offset in '%1'").arg(text);
        return false;
      }
      name = name.left(plus).trimmed();
    }
    if (!syms) {
      err = tr("this kernel has no ELF symbols");
      return false;
    }
    auto sym = syms->find(name.toStdString());
    if (!sym) {
      err = tr("unknown symbol '%1'").arg(name);
      return false;
    }
    addr = sym->value + off;
    return true;
  };
  if (t == Target::Register) {
    f.set_register_name(register_->currentText().toStdString());
  } else if (t == Target::Device) {
    const std::string name = address_->text().trimmed().toStdString();
    PcPlatform* pc = session_.platform();
    bool known = false;
    if (pc)
      for (const FaultField& fld : pc->fault_fields()) known |= fld.name == name;
    if (!known) {
      err = tr("unknown device register '%1' (names as in experiment files: pic.master.imr, pit.ch0.count, "
               "com1.lcr, ide0.status, rtc.reg0b, ...)")
                .arg(address_->text());
      return false;
    }
    f.set_device_field(name);
  } else {
    uint64_t addr = 0;
    if (t == Target::Symbol) {
      if (!resolve_symbol(address_->text(), addr)) return false;
      f.set_virtual_address(addr);
    } else {
      if (!parse_hex(address_->text(), addr) || addr > 0xFFFFFFFFull) {
        err = tr("invalid address '%1' (a 32-bit hexadecimal address expected)").arg(address_->text());
        return false;
      }
      if (t == Target::Physical) f.set_physical_address(addr);
      else f.set_virtual_address(addr);
    }
    f.set_width(width);
  }
  const unsigned bit = static_cast<unsigned>(bit_->value());
  uint64_t v = 0;
  switch (m) {
    case Model::BitFlip:
      f.mutable_model()->mutable_bit_flip()->set_bits(1);
      f.set_bit_mask(uint64_t{1} << bit);
      break;
    case Model::StuckAt0:
    case Model::StuckAt1:
      f.mutable_model()->mutable_stuck_at()->set_value(m == Model::StuckAt1 ? 1 : 0);
      f.set_bit_mask(uint64_t{1} << bit);
      break;
    case Model::SetValue:
      if (!parse_u64(value_->text(), v)) {
        err = tr("invalid value '%1' (0x.. or decimal)").arg(value_->text());
        return false;
      }
      f.mutable_model()->mutable_set_value()->set_value(v);
      break;
    case Model::Random:
      if (!value_->text().trimmed().isEmpty() && !parse_u64(value_->text(), v)) {
        err = tr("invalid seed '%1'").arg(value_->text());
        return false;
      }
      f.mutable_model()->mutable_random_value();
      f.set_random_seed(v);
      break;
  }
  switch (static_cast<Duration>(duration_->currentData().toInt())) {
    case Duration::Transient: f.mutable_duration()->set_transient(true); break;
    case Duration::Permanent: f.mutable_duration()->set_permanent(true); break;
    case Duration::Intermittent: {
      uint64_t n = 0;
      if (!parse_u64(duration_n_->text(), n) || n == 0) {
        err = tr("invalid intermittent duration '%1' (instructions)").arg(duration_n_->text());
        return false;
      }
      f.mutable_duration()->set_intermittent_instructions(n);
      break;
    }
  }
  if (!with_trigger) return true;
  uint64_t tv = 0;
  switch (static_cast<Trigger>(trigger_->currentData().toInt())) {
    case Trigger::Instruction:
      if (!parse_u64(trigger_value_->text(), tv)) {
        err = tr("invalid instruction count '%1'").arg(trigger_value_->text());
        return false;
      }
      f.mutable_trigger()->set_instruction(tv);
      break;
    case Trigger::TimeNs:
      if (!parse_u64(trigger_value_->text(), tv)) {
        err = tr("invalid virtual time '%1' (ns)").arg(trigger_value_->text());
        return false;
      }
      f.mutable_trigger()->set_time_ns(tv);
      break;
    case Trigger::Pc:
      if (!parse_hex(trigger_value_->text(), tv) && !resolve_symbol(trigger_value_->text(), tv)) {
        err = tr("invalid PC '%1': %2").arg(trigger_value_->text(), err);
        return false;
      }
      f.mutable_trigger()->mutable_pc()->set_address(tv);
      f.mutable_trigger()->mutable_pc()->set_occurrence(static_cast<uint64_t>(occurrence_->value()));
      break;
  }
  return true;
}

bool FaultPanel::inject() {
  if (!session_.loaded()) {
    error(tr("no kernel loaded"));
    return false;
  }
  pb::Fault f;
  QString err;
  if (!build_fault(f, err, false)) {
    error(err);
    return false;
  }
  const QString what = describe(f);
  faults::InjectionRecord rec;
  QString failure;
  with_machine([&] {
    try {
      rec = session_.inject_now(f);
      if (!rec.injected) failure = QString::fromStdString(rec.detail);
    } catch (const std::exception& e) {
      failure = QString::fromUtf8(e.what());
    }
    logged_ = session_.history().size();
  });
  if (!failure.isEmpty()) {
    error(tr("%1: not injected (%2)").arg(what, failure));
    return false;
  }
  log(tr("@tick %1 (%2 ns): %3: %4")
          .arg(rec.at_instruction)
          .arg(rec.at_time_ns)
          .arg(what, QString::fromStdString(rec.detail)));
  Q_EMIT injected();
  return true;
}

bool FaultPanel::arm() {
  if (!session_.loaded()) {
    error(tr("no kernel loaded"));
    return false;
  }
  pb::Fault f;
  QString err;
  if (!build_fault(f, err, true)) {
    error(err);
    return false;
  }
  QString failure;
  with_machine([&] {
    try {
      session_.arm(f);
    } catch (const std::exception& e) {
      failure = QString::fromUtf8(e.what());
    }
  });
  if (!failure.isEmpty()) {
    error(tr("cannot arm %1: %2").arg(describe(f), failure));
    return false;
  }
  log(tr("armed: %1 on %2").arg(describe(f), QString::fromStdString(f.trigger().ShortDebugString())));
  log_new_injections();
  return true;
}

void FaultPanel::disarm() {
  with_machine([&] { session_.disarm(); });
  log(tr("disarmed"));
}

void FaultPanel::log_new_injections() {
  // Copy the new entries with the machine idle, log them here.
  std::vector<Session::HandInjection> fresh;
  with_machine([&] {
    const auto& hist = session_.history();
    if (hist.size() < logged_) logged_ = 0;  // the machine was reset
    fresh.assign(hist.begin() + static_cast<std::ptrdiff_t>(logged_), hist.end());
    logged_ = hist.size();
  });
  for (const auto& h : fresh)
    log(tr("@tick %1 (%2 ns): trigger fired: %3: %4")
            .arg(h.record.at_instruction)
            .arg(h.record.at_time_ns)
            .arg(describe(h.fault), QString::fromStdString(h.record.detail)));
  if (!fresh.empty()) Q_EMIT injected();
}

void FaultPanel::sync_log() { logged_ = session_.history().size(); }

bool FaultPanel::export_to(const QString& path) {
  std::string text;
  QString failure;
  with_machine([&] {
    try {
      text = export_experiment(session_, QFileInfo(path).completeBaseName().toStdString());
    } catch (const std::exception& e) {
      failure = QString::fromUtf8(e.what());
    }
  });
  if (!failure.isEmpty()) {
    error(tr("cannot export: %1").arg(failure));
    return false;
  }
  QFile out(path);
  if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
      out.write(text.data(), static_cast<qint64>(text.size())) != static_cast<qint64>(text.size())) {
    error(tr("cannot write %1: %2").arg(path, out.errorString()));
    return false;
  }
  log(tr("exported to %1").arg(path));
  return true;
}

}  // namespace faultline::gui
