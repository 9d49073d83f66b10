// 16550A save/load: one sync() path serves both directions so the two cannot
// drift apart. Events are not saved; after_load() re-creates them from the
// saved completion times.
#include <stdexcept>
#include <type_traits>

#include "devices/uart/uart.h"
#include "uart/uart.pb.h"

namespace faultline {

#define FL_SYNC(field, member)                                                        \
  do {                                                                                \
    if (saving)                                                                       \
      state.set_##field(member);                                                      \
    else                                                                              \
      member = static_cast<std::remove_reference_t<decltype(member)>>(state.field()); \
  } while (0)

void Uart::sync(pb::dev::UartState& state, bool saving) {
  FL_SYNC(ier, ier_);
  FL_SYNC(lcr, lcr_);
  FL_SYNC(mcr, mcr_);
  FL_SYNC(lsr_latched, lsr_latched_);
  FL_SYNC(msr, msr_);
  FL_SYNC(scr, scr_);
  FL_SYNC(divisor, divisor_);
  FL_SYNC(fcr, fcr_);
  FL_SYNC(tx_busy, tx_busy_);
  FL_SYNC(tsr, tsr_);
  FL_SYNC(tx_done_ns, tx_done_ns_);
  FL_SYNC(thre_pending, thre_pending_);
  FL_SYNC(timeout_pending, timeout_pending_);
  FL_SYNC(rx_activity_ns, rx_activity_ns_);
  FL_SYNC(rx_busy, rx_busy_);
  FL_SYNC(rx_done_ns, rx_done_ns_);
  FL_SYNC(modem_inputs, modem_inputs_);
  FL_SYNC(timed, timed_);
  FL_SYNC(tx_dropped, tx_dropped_);
  FL_SYNC(rx_overruns, rx_overruns_);
  FL_SYNC(last_rbr, last_rbr_);

  auto sync_rx = [&](std::deque<RxByte>& q, std::string* data, std::string* errors) {
    if (saving) {
      for (const RxByte& b : q) {
        data->push_back(static_cast<char>(b.data));
        errors->push_back(static_cast<char>(b.errors));
      }
      return;
    }
    if (data->size() != errors->size())
      throw std::runtime_error(name_ + ": saved state has mismatched FIFO error bytes");
    q.clear();
    for (size_t i = 0; i < data->size(); ++i)
      q.push_back({static_cast<uint8_t>((*data)[i]), static_cast<uint8_t>((*errors)[i])});
  };
  sync_rx(rx_fifo_, state.mutable_rx_fifo(), state.mutable_rx_errors());
  sync_rx(host_input_, state.mutable_host_input(), state.mutable_host_input_errors());
  if (saving) {
    state.mutable_tx_fifo()->assign(tx_fifo_.begin(), tx_fifo_.end());
  } else {
    tx_fifo_.assign(state.tx_fifo().begin(), state.tx_fifo().end());
    if (rx_fifo_.size() > kFifoSize || tx_fifo_.size() > kFifoSize)
      throw std::runtime_error(name_ + ": saved FIFO larger than 16 bytes");
  }
}

#undef FL_SYNC

std::string Uart::save() const {
  pb::dev::UartState state;
  state.set_version(kVersion);
  const_cast<Uart*>(this)->sync(state, /*saving=*/true);  // saving only reads
  return state.SerializeAsString();
}

void Uart::load(const std::string& bytes) {
  pb::dev::UartState state;
  if (!state.ParseFromString(bytes)) throw std::runtime_error(name_ + ": malformed saved state");
  if (state.version() != kVersion)
    throw std::runtime_error(name_ + ": unknown saved state version " + std::to_string(state.version()));
  cancel_events();
  sync(state, /*saving=*/false);
}

void Uart::after_load() {
  arm_events();
  irq_level_ = iir_id() != uart_reg::kIirNone && (mcr_ & uart_reg::kMcrOut2) && !loopback();
  irq_.set(irq_level_);
}

}  // namespace faultline
