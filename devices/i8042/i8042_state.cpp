// i8042 save/load: one sync() path per object serves both directions.
#include <stdexcept>
#include <type_traits>

#include "devices/i8042/i8042.h"
#include "i8042/i8042.pb.h"

namespace faultline {

#define FL_SYNC(field, member)                                                        \
  do {                                                                                \
    if (saving)                                                                       \
      state.set_##field(member);                                                      \
    else                                                                              \
      member = static_cast<std::remove_reference_t<decltype(member)>>(state.field()); \
  } while (0)

namespace {
template <class Queue>
void sync_queue(Queue& q, std::string* bytes, bool saving) {
  if (saving)
    bytes->assign(q.begin(), q.end());
  else
    q.assign(bytes->begin(), bytes->end());
}
}  // namespace

void i8042::Ps2Keyboard::sync(pb::dev::Ps2KeyboardState& state, bool saving) {
  FL_SYNC(scan_set, scan_set_);
  FL_SYNC(scanning, scanning_);
  FL_SYNC(leds, leds_);
  FL_SYNC(typematic, typematic_);
  FL_SYNC(pending_command, pending_);
  FL_SYNC(last_sent, last_sent_);
  FL_SYNC(dropped, dropped_);
  sync_queue(out_, state.mutable_output(), saving);
}

void i8042::Ps2Mouse::sync(pb::dev::Ps2MouseState& state, bool saving) {
  FL_SYNC(sample_rate, sample_rate_);
  FL_SYNC(resolution, resolution_);
  FL_SYNC(scaling_2to1, scaling_2to1_);
  FL_SYNC(reporting, reporting_);
  FL_SYNC(remote, remote_);
  FL_SYNC(wrap, wrap_);
  FL_SYNC(id, id_);
  FL_SYNC(pending_command, pending_);
  FL_SYNC(dx, dx_);
  FL_SYNC(dy, dy_);
  FL_SYNC(dz, dz_);
  FL_SYNC(buttons, buttons_);
  FL_SYNC(last_sent, last_sent_);
  FL_SYNC(dropped, dropped_);
  sync_queue(out_, state.mutable_output(), saving);
  std::string* history = state.mutable_rate_history();
  if (saving) {
    history->assign(std::begin(rate_history_), std::end(rate_history_));
  } else {
    if (history->size() != 3) throw std::runtime_error("i8042: bad saved mouse rate history");
    for (int i = 0; i < 3; ++i) rate_history_[i] = static_cast<uint8_t>((*history)[i]);
  }
}

void I8042::sync(pb::dev::I8042State& state, bool saving) {
  FL_SYNC(output_port, output_port_);
  FL_SYNC(obf, obf_);
  FL_SYNC(out_aux, out_aux_);
  FL_SYNC(out_byte, out_byte_);
  FL_SYNC(a2, a2_);
  FL_SYNC(sys, sys_);
  FL_SYNC(pending_command, pending_);
  FL_SYNC(break_prefix, break_prefix_);
  FL_SYNC(unknown_commands, unknown_commands_);
  std::string* ram = state.mutable_ram();
  std::string* queue = state.mutable_ctrl_queue();
  std::string* queue_aux = state.mutable_ctrl_queue_aux();
  if (saving) {
    ram->assign(ram_.begin(), ram_.end());
    for (const Reply& r : replies_) {
      queue->push_back(static_cast<char>(r.byte));
      queue_aux->push_back(r.aux ? 1 : 0);
    }
  } else {
    if (ram->size() != ram_.size() || queue->size() != queue_aux->size())
      throw std::runtime_error("i8042: malformed saved state");
    for (size_t i = 0; i < ram_.size(); ++i) ram_[i] = static_cast<uint8_t>((*ram)[i]);
    replies_.clear();
    for (size_t i = 0; i < queue->size(); ++i)
      replies_.push_back({static_cast<uint8_t>((*queue)[i]), (*queue_aux)[i] != 0});
  }
  keyboard_.sync(*state.mutable_keyboard(), saving);
  mouse_.sync(*state.mutable_mouse(), saving);
}

#undef FL_SYNC

std::string I8042::save() const {
  pb::dev::I8042State state;
  state.set_version(kVersion);
  const_cast<I8042*>(this)->sync(state, /*saving=*/true);  // saving only reads
  return state.SerializeAsString();
}

void I8042::load(const std::string& bytes) {
  pb::dev::I8042State state;
  if (!state.ParseFromString(bytes)) throw std::runtime_error("i8042: malformed saved state");
  if (state.version() != kVersion)
    throw std::runtime_error("i8042: unknown saved state version " + std::to_string(state.version()));
  sync(state, /*saving=*/false);
}

void I8042::after_load() {
  kbd_irq_level_ = obf_ && !out_aux_ && (ram_[0] & i8042::kCmdKbdInt);
  aux_irq_level_ = obf_ && out_aux_ && (ram_[0] & i8042::kCmdAuxInt);
  kbd_irq_.set(kbd_irq_level_);
  aux_irq_.set(aux_irq_level_);
}

}  // namespace faultline
