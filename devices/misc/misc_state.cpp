// Save/load of the POST code port and port 0x92.
#include <stdexcept>

#include "devices/misc/misc.h"
#include "misc/misc.pb.h"

namespace faultline {

void PostCodePort::sync(pb::dev::PostCodeState& state, bool saving) {
  if (saving) {
    state.set_last_code(last_code_);
    state.set_count(count_);
    for (const Entry& e : log_) {
      pb::dev::PostCode* p = state.add_log();
      p->set_code(e.code);
      p->set_time_ns(e.time_ns);
    }
    return;
  }
  last_code_ = static_cast<uint8_t>(state.last_code());
  count_ = state.count();
  log_.clear();
  for (const pb::dev::PostCode& p : state.log())
    log_.push_back({static_cast<uint8_t>(p.code()), p.time_ns()});
}

std::string PostCodePort::save() const {
  pb::dev::PostCodeState state;
  state.set_version(kVersion);
  const_cast<PostCodePort*>(this)->sync(state, /*saving=*/true);  // saving only reads
  return state.SerializeAsString();
}

void PostCodePort::load(const std::string& bytes) {
  pb::dev::PostCodeState state;
  if (!state.ParseFromString(bytes)) throw std::runtime_error("post-code: malformed saved state");
  if (state.version() != kVersion)
    throw std::runtime_error("post-code: unknown saved state version " + std::to_string(state.version()));
  sync(state, /*saving=*/false);
}

std::string SystemControlPortA::save() const {
  pb::dev::SystemControlAState state;
  state.set_version(kVersion);
  state.set_value(value_);
  return state.SerializeAsString();
}

void SystemControlPortA::load(const std::string& bytes) {
  pb::dev::SystemControlAState state;
  if (!state.ParseFromString(bytes)) throw std::runtime_error("port92: malformed saved state");
  if (state.version() != kVersion)
    throw std::runtime_error("port92: unknown saved state version " + std::to_string(state.version()));
  // Loading restores the register without re-running its side effects: the
  // platform's A20 state is restored with the rest of the machine.
  value_ = static_cast<uint8_t>(state.value());
}

}  // namespace faultline
