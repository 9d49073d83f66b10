// 8259A behaviour: request latching, priority resolution, INTA, EOI, and the
// master/slave cascade of the PC/AT.
#include "devices/pic/pic.h"

namespace faultline {

void Pic8259::reset() {
  irr_ = isr_ = 0;
  imr_ = 0xFF;  // nothing is delivered until the guest initialises the chip
  elcr_ = 0;
  icw1_ = icw2_ = icw3_ = icw4_ = 0;
  init_step_ = 0;
  lowest_priority_ = 7;
  read_isr_ = poll_pending_ = special_mask_ = rotate_on_auto_eoi_ = false;
  // lines_ is the physical input level and survives a reset.
  changed();
}

int Pic8259::highest_in(uint8_t bits) const {
  if (!bits) return -1;
  for (unsigned p = 0; p < 8; ++p) {
    unsigned ir = (lowest_priority_ + 1 + p) & 7;
    if (bits & (1u << ir)) return static_cast<int>(ir);
  }
  return -1;
}

int Pic8259::highest_request() const {
  int request = highest_in(irr_ & ~imr_);
  if (request < 0) return -1;
  uint8_t in_service = isr_;
  // Special mask mode: a masked level in service no longer inhibits others.
  if (special_mask_) in_service &= ~imr_;
  int current = highest_in(in_service);
  if (current < 0) return request;
  unsigned pr = priority(static_cast<unsigned>(request));
  unsigned pc = priority(static_cast<unsigned>(current));
  if (pr < pc) return request;
  // Special fully nested mode: the slave may interrupt again through the
  // cascade input that is already in service.
  bool sfnm = master_ && (icw4_ & 0x10) && (icw3_ & (1u << request));
  if (pr == pc && sfnm) return request;
  return -1;
}

void Pic8259::set_input(unsigned ir, bool level) {
  uint8_t bit = static_cast<uint8_t>(1u << (ir & 7));
  bool was_high = lines_ & bit;
  if (level) {
    lines_ |= bit;
    if (!was_high || (level_mask() & bit)) irr_ |= bit;
  } else {
    lines_ &= ~bit;
    if (level_mask() & bit) irr_ &= ~bit;
  }
  changed();
}

void Pic8259::request(unsigned ir) {
  irr_ |= static_cast<uint8_t>(1u << (ir & 7));
  changed();
}

void Pic8259::set_elcr(uint8_t value) {
  elcr_ = value;
  uint8_t level = level_mask();
  irr_ = static_cast<uint8_t>((irr_ & ~level) | (lines_ & level));
  changed();
}

unsigned Pic8259::acknowledge(bool* spurious) {
  int request = highest_request();
  if (request < 0) {
    // The request went away between INT and INTA: the chip answers with IR7
    // and sets no ISR bit.
    *spurious = true;
    return 7;
  }
  *spurious = false;
  auto ir = static_cast<unsigned>(request);
  uint8_t bit = static_cast<uint8_t>(1u << ir);
  if (!(level_mask() & bit)) irr_ &= ~bit;  // the edge latch is consumed
  if (icw4_ & 0x02) {
    if (rotate_on_auto_eoi_) lowest_priority_ = static_cast<uint8_t>(ir);
  } else {
    isr_ |= bit;
  }
  changed();
  return ir;
}

unsigned Pic8259::poll() {
  if (highest_request() < 0) return 0;
  bool spurious = false;
  unsigned ir = acknowledge(&spurious);
  return 0x80 | ir;
}

void Pic8259::end_of_interrupt(int ir, bool rotate) {
  if (ir < 0) ir = highest_in(isr_);
  if (ir < 0) return;
  isr_ &= static_cast<uint8_t>(~(1u << ir));
  if (rotate) lowest_priority_ = static_cast<uint8_t>(ir);
  changed();
}

FaultFields Pic8259::fault_fields() {
  auto field = [this](const char* name, uint8_t Pic8259::*reg) {
    return FaultField{name, 8, [this, reg] { return uint64_t(this->*reg); },
                      [this, reg](uint64_t v) {
                        this->*reg = static_cast<uint8_t>(v);
                        changed();
                      }};
  };
  FaultFields f{field("irr", &Pic8259::irr_), field("isr", &Pic8259::isr_), field("imr", &Pic8259::imr_)};
  f.push_back({"elcr", 8, [this] { return uint64_t(elcr_); },
               [this](uint64_t v) { set_elcr(static_cast<uint8_t>(v)); }});
  f.push_back(field("icw2", &Pic8259::icw2_));
  return f;
}

void Pic8259::changed() {
  if (on_change_) on_change_();
}

// ---- PicPair ---------------------------------------------------------------

PicPair::PicPair() {
  for (unsigned i = 0; i < lines_.size(); ++i) {
    lines_[i].pair = this;
    lines_[i].irq = i;
  }
  master_.set_output_callback([this] {
    if (notify_) notify_();
  });
  slave_.set_output_callback([this] { slave_changed(); });
}

void PicPair::set_irq(unsigned irq, bool level) {
  if (line_filter && !line_filter(irq, level)) return;
  force_line(irq, level);
}

void PicPair::force_line(unsigned irq, bool level) {
  irq &= 15;
  if (irq == 2) irq = 9;
  if (irq < 8)
    master_.set_input(irq, level);
  else
    slave_.set_input(irq - 8, level);
}

void PicPair::slave_changed() { master_.set_input(2, slave_.output()); }

uint8_t PicPair::acknowledge() {
  bool spurious = false;
  unsigned ir = master_.acknowledge(&spurious);
  if (spurious || !(master_.cascade_mask() & (1u << ir))) return master_.vector_for(ir);
  // The master put the slave on the bus: the slave supplies the vector (its
  // IR7 if it has nothing left, the spurious IRQ 15).
  unsigned slave_ir = slave_.acknowledge(&spurious);
  uint8_t vector = slave_.vector_for(slave_ir);
  // A slave that still asserts INT (auto-EOI, another request) would be lost
  // behind the master's consumed edge latch; keep it requested.
  if (slave_.output()) master_.request(ir);
  return vector;
}

}  // namespace faultline
