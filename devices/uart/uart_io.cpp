// 16550A register interface: offsets 0..7, DLAB switching, read side
// effects (RBR pops, IIR acknowledges THRE, LSR/MSR clear their latches).
// Registers are 8 bits wide; wider accesses use the low byte and read the
// upper bytes as a floating ISA bus (0xFF).
#include "devices/uart/uart.h"

namespace faultline {

using namespace uart_reg;

uint32_t Uart::read(uint32_t offset, unsigned size) {
  uint32_t high = size == 1 ? 0 : size == 2 ? 0xFF00u : 0xFFFFFF00u;
  uint8_t v = 0xFF;
  bool dlab = lcr_ & kLcrDlab;
  switch (offset & 7) {
    case kData:
      v = dlab ? static_cast<uint8_t>(divisor_) : read_rbr();
      break;
    case kIer:
      v = dlab ? static_cast<uint8_t>(divisor_ >> 8) : ier_;
      break;
    case kIir: {
      uint8_t id = iir_id();
      v = static_cast<uint8_t>(id | (fifo_enabled() ? kIirFifos : 0));
      if (id == kIirThre) thre_pending_ = false;  // reading IIR acknowledges THRE
      break;
    }
    case kLcr:
      v = lcr_;
      break;
    case kMcr:
      v = mcr_;
      break;
    case kLsr:
      v = lsr();
      lsr_latched_ = 0;
      break;
    case kMsr:
      v = msr_;
      msr_ &= 0xF0;
      break;
    case kScr:
      v = scr_;
      break;
  }
  update_irq();
  return high | v;
}

void Uart::write(uint32_t offset, unsigned size, uint32_t value) {
  (void)size;
  uint8_t v = static_cast<uint8_t>(value);
  bool dlab = lcr_ & kLcrDlab;
  switch (offset & 7) {
    case kData:
      if (dlab)
        divisor_ = (divisor_ & 0xFF00) | v;
      else
        write_thr(v);
      break;
    case kIer:
      if (dlab)
        divisor_ = (divisor_ & 0x00FF) | (uint32_t{v} << 8);
      else
        write_ier(v);
      break;
    case kFcr:
      write_fcr(v);
      break;
    case kLcr:
      lcr_ = v;
      break;
    case kMcr:
      write_mcr(v);
      break;
    case kLsr:
      break;  // read-only (factory test mode not modelled)
    case kMsr:
      break;  // read-only
    case kScr:
      scr_ = v;
      break;
  }
  update_irq();
}

void Uart::write_ier(uint8_t value) {
  uint8_t old = ier_;
  ier_ = value & 0x0F;
  // Enabling the THRE interrupt while the holding register is empty raises
  // it at once (drivers rely on this to start transmitting).
  if (!(old & kIerThre) && (ier_ & kIerThre) && tx_fifo_.empty()) thre_pending_ = true;
}

void Uart::write_fcr(uint8_t value) {
  bool enable = value & kFcrEnable;
  if (enable != fifo_enabled()) {
    // Switching FIFO mode clears both FIFOs.
    clear_tx();
    fcr_ = enable ? kFcrEnable : 0;
    clear_rx();
  }
  if (!enable) {
    fcr_ = 0;  // the other bits are only programmed with FCR0 set
    pump_input();
    return;
  }
  fcr_ = value & (kFcrEnable | kFcrDma | 0xC0);
  if (value & kFcrRxReset) clear_rx();
  if (value & kFcrTxReset) clear_tx();
  arm_timeout();
  pump_input();
}

void Uart::write_mcr(uint8_t value) {
  bool was_loop = loopback();
  mcr_ = value & 0x1F;
  refresh_modem_status();
  if (was_loop && !loopback()) pump_input();
}

FaultFields Uart::fault_fields() {
  auto field = [this](const char* name, auto get, auto set) {
    return FaultField{name, 8, [this, get] { return uint64_t(get(*this)); },
                      [this, set](uint64_t v) {
                        set(*this, static_cast<uint8_t>(v));
                        update_irq();
                      }};
  };
  FaultFields f;
  f.push_back(field(
      "ier", [](Uart& u) { return u.ier_; }, [](Uart& u, uint8_t v) { u.write_ier(v); }));
  f.push_back(field(
      "lcr", [](Uart& u) { return u.lcr_; }, [](Uart& u, uint8_t v) { u.lcr_ = v; }));
  f.push_back(field(
      "mcr", [](Uart& u) { return u.mcr_; }, [](Uart& u, uint8_t v) { u.write_mcr(v); }));
  f.push_back(field(
      "fcr", [](Uart& u) { return u.fcr_; },
      [](Uart& u, uint8_t v) { u.fcr_ = v & (kFcrEnable | kFcrDma | 0xC0); }));
  f.push_back(field(
      "scr", [](Uart& u) { return u.scr_; }, [](Uart& u, uint8_t v) { u.scr_ = v; }));
  f.push_back(field(
      "dll", [](Uart& u) { return static_cast<uint8_t>(u.divisor_); },
      [](Uart& u, uint8_t v) { u.divisor_ = (u.divisor_ & 0xFF00) | v; }));
  f.push_back(field(
      "dlm", [](Uart& u) { return static_cast<uint8_t>(u.divisor_ >> 8); },
      [](Uart& u, uint8_t v) { u.divisor_ = (u.divisor_ & 0x00FF) | (uint32_t{v} << 8); }));
  f.push_back(field(
      "msr", [](Uart& u) { return u.msr_; }, [](Uart& u, uint8_t v) { u.msr_ = v; }));
  return f;
}

}  // namespace faultline
