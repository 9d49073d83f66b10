// 16550A behaviour: interrupt causes, FIFOs, transmit / receive timing,
// character timeout, modem status. Register decoding is in uart_io.cpp,
// save/load in uart_state.cpp.
#include "devices/uart/uart.h"

#include <vector>

namespace faultline {

using namespace uart_reg;

Uart::Uart(std::string name, IrqLine& irq, TimeSource* time, UartConfig config)
    : name_(std::move(name)), irq_(irq), time_(time), timed_(config.timed) {
  reset();
}

Uart::~Uart() { cancel_events(); }

void Uart::reset() {
  cancel_events();
  ier_ = lcr_ = mcr_ = scr_ = fcr_ = 0;
  lsr_latched_ = 0;
  msr_ = modem_inputs_;  // no deltas after reset
  divisor_ = 12;
  last_rbr_ = 0;
  rx_fifo_.clear();
  tx_fifo_.clear();
  tx_busy_ = false;
  tsr_ = 0;
  tx_done_ns_ = 0;
  thre_pending_ = timeout_pending_ = false;
  rx_activity_ns_ = now();
  rx_busy_ = false;
  rx_done_ns_ = 0;
  // Host input still on its way stays queued: the host did not reset.
  irq_level_ = false;
  irq_.lower();
  arm_poll();
  pump_input();
}

size_t Uart::rx_trigger() const {
  static constexpr size_t kLevels[4] = {1, 4, 8, 14};
  return kLevels[fcr_ >> 6];
}

uint64_t Uart::character_time_ns() const {
  // In half bits so 1.5 stop bits (5 data bits, LCR bit 2) are exact.
  uint64_t half_bits = 2 + 2 * (5 + (lcr_ & 3)) + ((lcr_ & 0x08) ? 2 : 0);
  half_bits += (lcr_ & 0x04) ? ((lcr_ & 3) == 0 ? 3 : 4) : 2;
  uint64_t div = divisor_ ? divisor_ : 65536;
  return half_bits * div * 1'000'000'000ull / (2ull * kClockDivisorBase);
}

uint8_t Uart::iir_id() const {
  if ((ier_ & kIerLineStatus) && (lsr_latched_ & kLsrErrors)) return kIirLineStatus;
  if (ier_ & kIerRxData) {
    if (!rx_fifo_.empty() && (!fifo_enabled() || rx_fifo_.size() >= rx_trigger())) return kIirRxData;
    if (fifo_enabled() && timeout_pending_) return kIirTimeout;
  }
  if ((ier_ & kIerThre) && thre_pending_) return kIirThre;
  if ((ier_ & kIerModem) && (msr_ & 0x0F)) return kIirModem;
  return kIirNone;
}

uint8_t Uart::lsr() const {
  uint8_t v = lsr_latched_;
  if (!rx_fifo_.empty()) v |= kLsrDr;
  if (tx_fifo_.empty()) v |= kLsrThre;
  if (tx_fifo_.empty() && !tx_busy_) v |= kLsrTemt;
  if (fifo_enabled())
    for (const RxByte& b : rx_fifo_)
      if (b.errors) {
        v |= kLsrFifoError;
        break;
      }
  return v;
}

void Uart::update_irq() {
  bool level = iir_id() != kIirNone && (mcr_ & kMcrOut2) && !loopback();
  if (level == irq_level_) return;
  irq_level_ = level;
  irq_.set(level);
}

void Uart::update_msr(uint8_t status) {
  uint8_t old = msr_ & 0xF0;
  uint8_t changed = old ^ status;
  uint8_t delta = 0;
  if (changed & kMsrCts) delta |= kMsrDcts;
  if (changed & kMsrDsr) delta |= kMsrDdsr;
  if ((old & kMsrRi) && !(status & kMsrRi)) delta |= kMsrTeri;  // trailing edge only
  if (changed & kMsrDcd) delta |= kMsrDdcd;
  msr_ = static_cast<uint8_t>((msr_ & 0x0F) | delta | status);
}

void Uart::refresh_modem_status() {
  if (!loopback()) {
    update_msr(modem_inputs_);
    return;
  }
  // Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
  uint8_t s = 0;
  if (mcr_ & kMcrRts) s |= kMsrCts;
  if (mcr_ & kMcrDtr) s |= kMsrDsr;
  if (mcr_ & kMcrOut1) s |= kMsrRi;
  if (mcr_ & kMcrOut2) s |= kMsrDcd;
  update_msr(s);
}

void Uart::set_modem_inputs(bool cts, bool dsr, bool ri, bool dcd) {
  modem_inputs_ = static_cast<uint8_t>((cts ? kMsrCts : 0) | (dsr ? kMsrDsr : 0) | (ri ? kMsrRi : 0) |
                                       (dcd ? kMsrDcd : 0));
  refresh_modem_status();
  update_irq();
}

// ---- transmitter -----------------------------------------------------------

void Uart::write_thr(uint8_t byte) {
  thre_pending_ = false;
  if (!use_timing()) {
    emit(byte);
    thre_pending_ = true;  // the holding register is empty again at once
    return;
  }
  if (tx_fifo_.size() >= fifo_capacity()) {
    ++tx_dropped_;
    return;
  }
  tx_fifo_.push_back(byte);
  if (!tx_busy_) start_tx();
}

void Uart::start_tx() {
  tsr_ = tx_fifo_.front();
  tx_fifo_.pop_front();
  tx_busy_ = true;
  uint64_t ct = character_time_ns();
  tx_done_ns_ = now() + ct;
  tx_event_ = time_->schedule(ct, [this] { on_tx_done(); });
  // THRE is raised when the holding register / FIFO hands its last byte to
  // the shift register, not when the byte has left.
  if (tx_fifo_.empty()) thre_pending_ = true;
}

void Uart::on_tx_done() {
  tx_event_ = 0;
  tx_busy_ = false;
  emit(tsr_);
  if (!tx_fifo_.empty()) start_tx();
  update_irq();
}

void Uart::emit(uint8_t byte) {
  if (tx_filter && !tx_filter(byte)) return;
  if (loopback()) {
    deliver_rx(byte, 0);
    return;
  }
  if (backend_) backend_->write(byte);
}

// ---- receiver --------------------------------------------------------------

uint8_t Uart::read_rbr() {
  if (rx_fifo_.empty()) return last_rbr_;
  last_rbr_ = rx_fifo_.front().data;
  rx_fifo_.pop_front();
  // A character is read: clears a pending timeout and restarts the timer.
  timeout_pending_ = false;
  if (!rx_fifo_.empty()) lsr_latched_ |= rx_fifo_.front().errors;  // new head's errors show
  rx_activity();
  pump_input();
  return last_rbr_;
}

void Uart::deliver_rx(uint8_t byte, uint8_t errors) {
  if (rx_fifo_.size() >= fifo_capacity()) {
    lsr_latched_ |= kLsrOe;
    ++rx_overruns_;
    if (!fifo_enabled()) {
      // 16450 behaviour: the new character overwrites the holding register.
      rx_fifo_.back() = {byte, errors};
      lsr_latched_ |= errors;
    }
    // FIFO mode: the character in the shift register is lost.
  } else {
    rx_fifo_.push_back({byte, errors});
    if (rx_fifo_.size() == 1) lsr_latched_ |= errors;
  }
  rx_activity();
}

void Uart::receive(std::span<const uint8_t> bytes) {
  for (uint8_t b : bytes) host_input_.push_back({b, 0});
  pump_input();
  update_irq();
}

void Uart::receive_with_error(uint8_t byte, uint8_t lsr_errors) {
  host_input_.push_back({byte, static_cast<uint8_t>(lsr_errors & (kLsrPe | kLsrFe | kLsrBi))});
  pump_input();
  update_irq();
}

void Uart::pump_input() {
  if (loopback()) return;  // the receiver listens to the transmitter
  if (use_timing()) {
    if (rx_busy_ || host_input_.empty()) return;
    rx_busy_ = true;
    uint64_t ct = character_time_ns();
    rx_done_ns_ = now() + ct;
    rx_event_ = time_->schedule(ct, [this] { on_rx_done(); });
    return;
  }
  while (!host_input_.empty() && rx_fifo_.size() < fifo_capacity()) {
    RxByte b = host_input_.front();
    host_input_.pop_front();
    if (rx_filter && !rx_filter(b.data)) continue;
    deliver_rx(b.data, b.errors);
  }
}

void Uart::on_rx_done() {
  rx_event_ = 0;
  rx_busy_ = false;
  if (!loopback() && !host_input_.empty()) {
    RxByte b = host_input_.front();
    host_input_.pop_front();
    if (!rx_filter || rx_filter(b.data)) deliver_rx(b.data, b.errors);
  }
  pump_input();
  update_irq();
}

// New character or a read: the timeout timer restarts unless a timeout is
// already pending (only reading clears that).
void Uart::rx_activity() {
  if (!timeout_pending_) rx_activity_ns_ = now();
  arm_timeout();
}

void Uart::arm_timeout() {
  if (!fifo_enabled() || rx_fifo_.empty() || timeout_pending_) {
    if (timeout_event_) time_->cancel(timeout_event_);
    timeout_event_ = 0;
    return;
  }
  if (!time_) {
    timeout_pending_ = true;
    return;
  }
  if (timeout_event_) return;  // on_timeout re-arms from rx_activity_ns_
  uint64_t deadline = rx_activity_ns_ + 4 * character_time_ns();
  uint64_t t = now();
  timeout_event_ = time_->schedule(deadline > t ? deadline - t : 0, [this] { on_timeout(); });
}

void Uart::on_timeout() {
  timeout_event_ = 0;
  if (!fifo_enabled() || rx_fifo_.empty() || timeout_pending_) return;
  uint64_t deadline = rx_activity_ns_ + 4 * character_time_ns();
  if (now() >= deadline) {
    timeout_pending_ = true;
    update_irq();
    return;
  }
  arm_timeout();
}

void Uart::clear_rx() {
  rx_fifo_.clear();
  timeout_pending_ = false;
  arm_timeout();
}

void Uart::clear_tx() {
  if (tx_fifo_.empty()) return;
  tx_fifo_.clear();
  thre_pending_ = true;
}

// ---- host side ----------------------------------------------------------

void Uart::set_backend(std::shared_ptr<uart::Backend> backend) {
  if (poll_event_) time_->cancel(poll_event_);
  poll_event_ = 0;
  backend_ = std::move(backend);
  arm_poll();
}

void Uart::arm_poll() {
  if (poll_event_ || !time_ || !backend_ || backend_->poll_interval_ns() == 0) return;
  poll_event_ = time_->schedule(backend_->poll_interval_ns(), [this] { on_poll(); });
}

void Uart::on_poll() {
  poll_event_ = 0;
  std::vector<uint8_t> input;
  backend_->poll_input(input);
  if (!input.empty()) receive(input);
  arm_poll();
}

void Uart::set_timed(bool timed) {
  if (timed == timed_) return;
  timed_ = timed;
  // Bytes in flight finish at once; the other mode takes over from here.
  if (tx_event_) {
    time_->cancel(tx_event_);
    tx_event_ = 0;
    on_tx_done();
  }
  while (!tx_fifo_.empty()) {
    uint8_t b = tx_fifo_.front();
    tx_fifo_.pop_front();
    emit(b);
  }
  if (rx_event_) {
    time_->cancel(rx_event_);
    rx_event_ = 0;
    on_rx_done();
  }
  pump_input();
  update_irq();
}

void Uart::cancel_events() {
  if (!time_) return;
  for (EventId* id : {&tx_event_, &rx_event_, &timeout_event_, &poll_event_}) {
    if (*id) time_->cancel(*id);
    *id = 0;
  }
}

// Re-creates the events implied by the state (after load()).
void Uart::arm_events() {
  if (!time_) return;
  uint64_t t = now();
  if (tx_busy_) tx_event_ = time_->schedule(tx_done_ns_ > t ? tx_done_ns_ - t : 0, [this] { on_tx_done(); });
  if (rx_busy_) rx_event_ = time_->schedule(rx_done_ns_ > t ? rx_done_ns_ - t : 0, [this] { on_rx_done(); });
  arm_timeout();
  arm_poll();
}

}  // namespace faultline
