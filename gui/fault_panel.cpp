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
#include <QStackedWidget>
#include <QVBoxLayout>
#include <exception>
#include <optional>
#include <regex>
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
  target_kind_->addItem(tr("IDE disk sectors"), static_cast<int>(Target::Disk));
  target_kind_->addItem(tr("serial port bytes"), static_cast<int>(Target::Serial));
  target_kind_->addItem(tr("IRQ line"), static_cast<int>(Target::Irq));
  where_ = new QStackedWidget(this);
  register_ = new QComboBox(this);
  for (const char* r : kRegisters) register_->addItem(QString::fromLatin1(r));
  address_ = new QLineEdit(this);
  address_->setPlaceholderText(tr("hex address, or symbol+0x10"));
  width_ = new QComboBox(this);
  width_->addItems({"1", "2", "4"});
  disk_drive_ = new QSpinBox(this);
  disk_drive_->setRange(0, 3);
  disk_drive_->setPrefix(tr("drive "));
  disk_drive_->setToolTip(tr("0 primary master, 1 primary slave, 2 secondary master, 3 secondary slave"));
  disk_lba_ = new QLineEdit("0", this);
  disk_lba_->setToolTip(tr("first sector (LBA, decimal or 0x..)"));
  disk_count_ = new QSpinBox(this);
  disk_count_->setRange(1, 1 << 24);
  disk_count_->setPrefix(tr("count "));
  disk_kind_ = new QComboBox(this);
  disk_kind_->addItem(tr("corrupt read data"), static_cast<int>(pb::DISK_CORRUPT_READ));
  disk_kind_->addItem(tr("read error (UNC)"), static_cast<int>(pb::DISK_READ_ERROR));
  disk_kind_->addItem(tr("write error (IDNF)"), static_cast<int>(pb::DISK_WRITE_ERROR));
  disk_kind_->addItem(tr("timeout (BSY for ever)"), static_cast<int>(pb::DISK_TIMEOUT));
  disk_offset_ = new QSpinBox(this);
  disk_offset_->setRange(0, 511);
  disk_offset_->setPrefix(tr("byte "));
  disk_offset_->setToolTip(tr("offset of the corrupted cell in each sector (width from the address page)"));
  serial_com_ = new QSpinBox(this);
  serial_com_->setRange(1, 4);
  serial_com_->setPrefix(tr("COM"));
  serial_dir_ = new QComboBox(this);
  serial_dir_->addItem(tr("transmitted (guest to host)"), static_cast<int>(pb::SERIAL_TX));
  serial_dir_->addItem(tr("received (host to guest)"), static_cast<int>(pb::SERIAL_RX));
  serial_action_ = new QComboBox(this);
  serial_action_->addItem(tr("corrupt"), static_cast<int>(pb::SERIAL_CORRUPT));
  serial_action_->addItem(tr("drop"), static_cast<int>(pb::SERIAL_DROP));
  irq_line_ = new QSpinBox(this);
  irq_line_->setRange(0, 15);
  irq_line_->setPrefix(tr("IRQ "));
  irq_kind_ = new QComboBox(this);
  irq_kind_->addItem(tr("lost assertion"), static_cast<int>(pb::IRQ_LOST));
  irq_kind_->addItem(tr("spurious pulse"), static_cast<int>(pb::IRQ_SPURIOUS));
  // Pages of `where_`, in WherePage order.
  auto page = [this](std::initializer_list<QWidget*> widgets) {
    auto* w = new QWidget(where_);
    auto* row = new QHBoxLayout(w);
    row->setContentsMargins(0, 0, 0, 0);
    for (QWidget* x : widgets) row->addWidget(x, x == address_ || x == disk_lba_ ? 1 : 0);
    where_->addWidget(w);
  };
  page({register_});
  page({address_});
  page({disk_drive_, disk_lba_, disk_count_, disk_kind_, disk_offset_});
  page({serial_com_, serial_dir_, serial_action_});
  page({irq_line_, irq_kind_});
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
  trigger_->addItem(tr("after a memory access (physical range)"), static_cast<int>(Trigger::MemoryAccess));
  trigger_->addItem(tr("after a port access"), static_cast<int>(Trigger::Port));
  trigger_->addItem(tr("on output (regex on console / COM1)"), static_cast<int>(Trigger::Output));
  access_ = new QComboBox(this);
  access_->addItem(tr("read/write"), static_cast<int>(Access::ReadOrWrite));
  access_->addItem(tr("read"), static_cast<int>(Access::Read));
  access_->addItem(tr("write"), static_cast<int>(Access::Write));
  trigger_value_ = new QLineEdit(this);
  trigger_value_->setMinimumWidth(120);
  trigger_value_->setPlaceholderText(tr("count / ns / PC / range / port / regex"));
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
  form->addRow(tr("Where"), where_);
  form->addRow(tr("Cell width (bytes)"), width_);
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
  trig_row->addWidget(access_);
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

  for (QComboBox* c : {target_kind_, register_, model_, duration_, trigger_, width_, disk_kind_, serial_action_})
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

namespace {
// Pages of the "Where" stack.
enum WherePage { kRegisterPage, kAddressPage, kDiskPage, kSerialPage, kIrqPage };
}  // namespace

bool FaultPanel::modelless() const {
  switch (static_cast<Target>(target_kind_->currentData().toInt())) {
    case Target::Disk: return disk_kind_->currentData().toInt() != pb::DISK_CORRUPT_READ;
    case Target::Serial: return serial_action_->currentData().toInt() == pb::SERIAL_DROP;
    case Target::Irq: return true;
    default: return false;
  }
}

void FaultPanel::form_changed() {
  const auto t = static_cast<Target>(target_kind_->currentData().toInt());
  const auto m = static_cast<Model>(model_->currentData().toInt());
  switch (t) {
    case Target::Register: where_->setCurrentIndex(kRegisterPage); break;
    case Target::Disk: where_->setCurrentIndex(kDiskPage); break;
    case Target::Serial: where_->setCurrentIndex(kSerialPage); break;
    case Target::Irq: where_->setCurrentIndex(kIrqPage); break;
    default: where_->setCurrentIndex(kAddressPage); break;
  }
  const bool no_model = modelless();
  const bool disk_corrupt = t == Target::Disk && !no_model;
  disk_offset_->setEnabled(disk_corrupt);
  width_->setEnabled(t == Target::Physical || t == Target::Virtual || t == Target::Symbol || disk_corrupt);
  model_->setEnabled(!no_model);
  const bool bits = m == Model::BitFlip || m == Model::StuckAt0 || m == Model::StuckAt1;
  bit_->setEnabled(bits && !no_model);
  value_->setEnabled((m == Model::SetValue || m == Model::Random) && !no_model);
  duration_n_->setEnabled(static_cast<Duration>(duration_->currentData().toInt()) == Duration::Intermittent);
  const auto trig = static_cast<Trigger>(trigger_->currentData().toInt());
  occurrence_->setEnabled(trig != Trigger::Instruction && trig != Trigger::TimeNs);
  access_->setEnabled(trig == Trigger::MemoryAccess || trig == Trigger::Port);
  if (t == Target::Register) {
    auto info = faults::find_register(register_->currentText().toStdString());
    bit_->setRange(0, info ? static_cast<int>(info->bits) - 1 : 31);
  } else if (t == Target::Device) {
    unsigned nbits = 32;
    if (PcPlatform* pc = session_.platform())
      for (const FaultField& fld : pc->fault_fields())
        if (fld.name == address_->text().trimmed().toStdString()) nbits = fld.bits;
    bit_->setRange(0, static_cast<int>(nbits) - 1);
  } else if (t == Target::Serial) {
    bit_->setRange(0, 7);
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

void FaultPanel::set_disk_target(unsigned drive, uint64_t lba, uint64_t count, pb::DiskFaultKind kind,
                                 unsigned offset) {
  target_kind_->setCurrentIndex(target_kind_->findData(static_cast<int>(Target::Disk)));
  disk_drive_->setValue(static_cast<int>(drive));
  disk_lba_->setText(QString::number(lba));
  disk_count_->setValue(static_cast<int>(count));
  disk_kind_->setCurrentIndex(disk_kind_->findData(static_cast<int>(kind)));
  disk_offset_->setValue(static_cast<int>(offset));
  form_changed();
}

void FaultPanel::set_serial_target(unsigned com, pb::SerialDirection direction, pb::SerialAction action) {
  target_kind_->setCurrentIndex(target_kind_->findData(static_cast<int>(Target::Serial)));
  serial_com_->setValue(static_cast<int>(com));
  serial_dir_->setCurrentIndex(serial_dir_->findData(static_cast<int>(direction)));
  serial_action_->setCurrentIndex(serial_action_->findData(static_cast<int>(action)));
  form_changed();
}

void FaultPanel::set_irq_target(unsigned line, pb::IrqFaultKind kind) {
  target_kind_->setCurrentIndex(target_kind_->findData(static_cast<int>(Target::Irq)));
  irq_line_->setValue(static_cast<int>(line));
  irq_kind_->setCurrentIndex(irq_kind_->findData(static_cast<int>(kind)));
  form_changed();
}

void FaultPanel::set_width(unsigned bytes) {
  width_->setCurrentText(QString::number(bytes));
  form_changed();
}

void FaultPanel::set_bit(int bit) {
  // Old callers pick a bit beyond one byte on a memory cell: widen it.
  const auto t = static_cast<Target>(target_kind_->currentData().toInt());
  if ((t == Target::Physical || t == Target::Virtual || t == Target::Symbol || t == Target::Disk) && bit >= 8)
    set_width(bit < 16 ? 2 : 4);
  bit_->setValue(bit);
}

void FaultPanel::set_model(Model m) { model_->setCurrentIndex(model_->findData(static_cast<int>(m))); }
void FaultPanel::set_value(uint64_t v) { value_->setText(QString("0x%1").arg(v, 0, 16)); }

void FaultPanel::set_duration(Duration d, uint64_t instructions) {
  duration_->setCurrentIndex(duration_->findData(static_cast<int>(d)));
  if (instructions) duration_n_->setText(QString::number(instructions));
}

void FaultPanel::set_trigger(Trigger t, const QString& value, unsigned occurrence, Access access) {
  trigger_->setCurrentIndex(trigger_->findData(static_cast<int>(t)));
  trigger_value_->setText(value);
  occurrence_->setValue(static_cast<int>(occurrence));
  access_->setCurrentIndex(access_->findData(static_cast<int>(access)));
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
    case pb::Fault::kDisk: {
      const pb::DiskTarget& d = f.disk();
      const uint64_t n = d.count() ? d.count() : 1;
      target = QString("disk %1 lba %2").arg(d.drive()).arg(d.lba());
      if (n > 1) target += QString("..%1").arg(d.lba() + n - 1);
      switch (d.kind()) {
        case pb::DISK_READ_ERROR: return target + " read error";
        case pb::DISK_WRITE_ERROR: return target + " write error";
        case pb::DISK_TIMEOUT: return target + " timeout";
        default: target += QString(" byte %1").arg(d.offset()); break;
      }
      break;
    }
    case pb::Fault::kSerial:
      target = QString("com%1 %2").arg(f.serial().com()).arg(f.serial().direction() == pb::SERIAL_RX ? "rx" : "tx");
      if (f.serial().action() == pb::SERIAL_DROP) return target + " drop";
      break;
    case pb::Fault::kIrq:
      return QString("irq %1 %2").arg(f.irq().line()).arg(f.irq().kind() == pb::IRQ_SPURIOUS ? "spurious" : "lost");
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

bool FaultPanel::build_model(pb::Fault& f, QString& err) {
  const auto m = static_cast<Model>(model_->currentData().toInt());
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
  return true;
}

bool FaultPanel::build_fault(pb::Fault& f, QString& err, bool with_trigger) {
  f.Clear();
  const auto t = static_cast<Target>(target_kind_->currentData().toInt());
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
  } else if (t == Target::Disk) {
    uint64_t lba = 0;
    if (!parse_u64(disk_lba_->text(), lba)) {
      err = tr("invalid sector number '%1' (an LBA, decimal or 0x..)").arg(disk_lba_->text());
      return false;
    }
    pb::DiskTarget* d = f.mutable_disk();
    d->set_drive(static_cast<uint32_t>(disk_drive_->value()));
    d->set_lba(lba);
    d->set_count(static_cast<uint64_t>(disk_count_->value()));
    d->set_kind(static_cast<pb::DiskFaultKind>(disk_kind_->currentData().toInt()));
    if (d->kind() == pb::DISK_CORRUPT_READ) {
      if (static_cast<unsigned>(disk_offset_->value()) + width > 512) {
        err = tr("a %1-byte cell at byte %2 does not fit a 512-byte sector").arg(width).arg(disk_offset_->value());
        return false;
      }
      d->set_offset(static_cast<uint32_t>(disk_offset_->value()));
      f.set_width(width);
    }
  } else if (t == Target::Serial) {
    pb::SerialTarget* st = f.mutable_serial();
    st->set_com(static_cast<uint32_t>(serial_com_->value()));
    st->set_direction(static_cast<pb::SerialDirection>(serial_dir_->currentData().toInt()));
    st->set_action(static_cast<pb::SerialAction>(serial_action_->currentData().toInt()));
  } else if (t == Target::Irq) {
    f.mutable_irq()->set_line(static_cast<uint32_t>(irq_line_->value()));
    f.mutable_irq()->set_kind(static_cast<pb::IrqFaultKind>(irq_kind_->currentData().toInt()));
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
  if (!modelless() && !build_model(f, err)) return false;  // disk errors/timeouts, serial drops, IRQs: none
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
    case Trigger::MemoryAccess:
    case Trigger::Port: {
      const bool port = static_cast<Trigger>(trigger_->currentData().toInt()) == Trigger::Port;
      const QString text = trigger_value_->text().trimmed();
      uint64_t start = 0, end = 0;
      const qsizetype dash = text.indexOf('-'), plus = text.indexOf('+');
      if (dash > 0) {
        if (!parse_hex(text.left(dash), start) || !parse_hex(text.mid(dash + 1), end) || end <= start) {
          err = tr("invalid range '%1' (START-END in hex, end exclusive)").arg(text);
          return false;
        }
      } else if (parse_hex(text, start)) {
        end = start + 1;
      } else if (!port && plus > 0 && parse_hex(text.left(plus), start)) {
        uint64_t len = 0;
        if (!parse_u64(text.mid(plus + 1), len) || len == 0) {
          err = tr("invalid length in '%1'").arg(text);
          return false;
        }
        end = start + len;
      } else if (!port) {
        // A symbol: its whole extent, or one byte at symbol+offset.
        const SymbolTable* st = session_.symbols();
        auto sym = st && plus < 0 ? st->find(text.toStdString()) : std::nullopt;
        if (sym && sym->size > 0) {
          start = sym->value;
          end = uint64_t(sym->value) + sym->size;
        } else if (resolve_symbol(text, start)) {
          end = start + 1;
        } else {
          err = tr("invalid memory range '%1': %2").arg(text, err);
          return false;
        }
      } else {
        err = tr("invalid port '%1' (hex, or START-END)").arg(text);
        return false;
      }
      if (port ? end > 0x10000 : end > 0x100000000ull) {
        err = tr("range '%1' is beyond the %2 space").arg(text, port ? tr("I/O port") : tr("4 GiB physical"));
        return false;
      }
      pb::AccessPoint* ap = port ? f.mutable_trigger()->mutable_port() : f.mutable_trigger()->mutable_memory_access();
      ap->set_start(start);
      ap->set_end(end);
      const auto acc = static_cast<Access>(access_->currentData().toInt());
      ap->set_on_read(acc != Access::Write);
      ap->set_on_write(acc != Access::Read);
      ap->set_occurrence(static_cast<uint64_t>(occurrence_->value()));
      break;
    }
    case Trigger::Output: {
      const std::string pattern = trigger_value_->text().toStdString();
      if (pattern.empty()) {
        err = tr("the output trigger needs a pattern (an ECMAScript regex)");
        return false;
      }
      try {
        std::regex re(pattern, std::regex::ECMAScript | std::regex::multiline);
      } catch (const std::regex_error& e) {
        err = tr("bad output pattern '%1': %2").arg(trigger_value_->text(), QString::fromUtf8(e.what()));
        return false;
      }
      f.mutable_trigger()->mutable_output()->set_pattern(pattern);
      f.mutable_trigger()->mutable_output()->set_occurrence(static_cast<uint64_t>(occurrence_->value()));
      break;
    }
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
  bool armed_stream = false;
  with_machine([&] {
    try {
      rec = session_.inject_now(f, &armed_stream);
      if (!rec.injected && !armed_stream) failure = QString::fromStdString(rec.detail);
    } catch (const std::exception& e) {
      failure = QString::fromUtf8(e.what());
    }
    logged_ = session_.history().size();
  });
  if (!failure.isEmpty()) {
    error(tr("%1: not injected (%2)").arg(what, failure));
    return false;
  }
  if (armed_stream) {
    log(tr("@tick %1 (%2 ns): %3: %4; hits the next matching transfer")
            .arg(rec.at_instruction)
            .arg(rec.at_time_ns)
            .arg(what, QString::fromStdString(rec.detail)));
    return true;
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
  log(tr("disarmed every hand-made fault"));
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
