// 8254 and port B save/load: one transfer function serves both directions so
// the two cannot drift apart.
#include <stdexcept>
#include <type_traits>

#include "devices/pit/pit.h"
#include "pit/pit.pb.h"

namespace faultline {

namespace {
constexpr uint32_t kPitStateVersion = 1;
constexpr uint32_t kPortBStateVersion = 1;
}  // namespace

template <bool Saving, class Msg, class C>
void transfer_counter(C& c, Msg& msg) {
#define FL_FIELD(member, field)   \
  if constexpr (Saving)           \
    msg.set_##field(c.member);    \
  else                            \
    c.member = static_cast<std::remove_cvref_t<decltype(c.member)>>(msg.field());
  FL_FIELD(mode, mode)
  FL_FIELD(bcd, bcd)
  FL_FIELD(access, access)
  FL_FIELD(count_register, count_register)
  FL_FIELD(write_msb_next, write_msb_next)
  FL_FIELD(write_lsb, write_lsb)
  FL_FIELD(read_msb_next, read_msb_next)
  FL_FIELD(count_latched, count_latched)
  FL_FIELD(latched_count, latched_count)
  FL_FIELD(latch_msb_next, latch_msb_next)
  FL_FIELD(status_latched, status_latched)
  FL_FIELD(latched_status, latched_status)
  FL_FIELD(gate, gate)
  FL_FIELD(has_count, has_count)
  FL_FIELD(armed, armed)
  FL_FIELD(reload, reload)
  FL_FIELD(start_clock, start_clock)
  FL_FIELD(counted, counted)
  FL_FIELD(paused, paused)
  FL_FIELD(null_until, null_until)
  FL_FIELD(pending_reload, pending_reload)
  FL_FIELD(pending_count, pending_count)
  FL_FIELD(pending_clock, pending_clock)
  FL_FIELD(held_count, held_count)
#undef FL_FIELD
}

std::string Pit8254::save() const {
  pb::dev::PitState msg;
  msg.set_version(kPitStateVersion);
  for (const Counter& c : counters_) transfer_counter<true>(c, *msg.add_counters());
  return msg.SerializeAsString();
}

void Pit8254::load(const std::string& state) {
  pb::dev::PitState msg;
  if (!msg.ParseFromString(state)) throw std::runtime_error("pit: malformed state");
  if (msg.version() != kPitStateVersion)
    throw std::runtime_error("pit: unknown state version " + std::to_string(msg.version()));
  if (msg.counters_size() != 3) throw std::runtime_error("pit: state needs three counters");
  for (const auto& m : msg.counters()) {
    auto word = [](uint32_t v) { return v <= 0xFFFF; };
    if (m.mode() > 5 || m.access() < 1 || m.access() > 3 || !word(m.count_register()) || m.write_lsb() > 0xFF ||
        !word(m.latched_count()) || m.latched_status() > 0xFF || !word(m.reload()) || !word(m.pending_count()) ||
        !word(m.held_count()))
      throw std::runtime_error("pit: state field out of range");
  }
  if (irq0_event_) time_.cancel(irq0_event_);
  irq0_event_ = 0;
  for (int i = 0; i < 3; ++i) {
    auto m = msg.counters(i);
    transfer_counter<false>(counters_[static_cast<size_t>(i)], m);
  }
}

std::string PortB::save() const {
  pb::dev::PortBState msg;
  msg.set_version(kPortBStateVersion);
  msg.set_control(control_);
  return msg.SerializeAsString();
}

void PortB::load(const std::string& state) {
  pb::dev::PortBState msg;
  if (!msg.ParseFromString(state)) throw std::runtime_error("port-b: malformed state");
  if (msg.version() != kPortBStateVersion)
    throw std::runtime_error("port-b: unknown state version " + std::to_string(msg.version()));
  if (msg.control() > 0x0F) throw std::runtime_error("port-b: state field out of range");
  control_ = static_cast<uint8_t>(msg.control());
}

}  // namespace faultline
