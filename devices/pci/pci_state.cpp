// PCI save/load. A function's state is its configuration space; BAR
// mappings derive from it, so listeners hear about moves after a load.
#include <stdexcept>

#include "devices/pci/pci.h"
#include "pci/pci.pb.h"

namespace faultline {

namespace {
constexpr uint32_t kFunctionStateVersion = 1;
constexpr uint32_t kHostStateVersion = 1;
}  // namespace

std::string PciFunction::save() const {
  pb::dev::PciFunctionState msg;
  msg.set_version(kFunctionStateVersion);
  msg.set_vendor_id(vendor_);
  msg.set_device_id(device_);
  msg.set_config(std::string(config_.begin(), config_.end()));
  return msg.SerializeAsString();
}

void PciFunction::load(const std::string& state) {
  pb::dev::PciFunctionState msg;
  const std::string who = name();
  if (!msg.ParseFromString(state)) throw std::runtime_error(who + ": malformed state");
  if (msg.version() != kFunctionStateVersion)
    throw std::runtime_error(who + ": unknown state version " + std::to_string(msg.version()));
  if (msg.vendor_id() != vendor_ || msg.device_id() != device_)
    throw std::runtime_error(who + ": state belongs to a different PCI function");
  if (msg.config().size() != config_.size()) throw std::runtime_error(who + ": configuration space is not 256 bytes");
  auto before = mappings();
  std::copy(msg.config().begin(), msg.config().end(), config_.begin());
  config_written(0, 256);  // every register changed: callbacks re-announce PAM, PIRQ, ...
  auto after = mappings();
  if (on_bar_change)
    for (unsigned i = 0; i < 6; ++i)
      if (!(before[i] == after[i])) on_bar_change(*this, i, before[i], after[i]);
}

std::string PciHost::save() const {
  pb::dev::PciHostState msg;
  msg.set_version(kHostStateVersion);
  msg.set_address(address_);
  msg.set_reset_control(reset_control_);
  return msg.SerializeAsString();
}

void PciHost::load(const std::string& state) {
  pb::dev::PciHostState msg;
  if (!msg.ParseFromString(state)) throw std::runtime_error("pci-host: malformed state");
  if (msg.version() != kHostStateVersion)
    throw std::runtime_error("pci-host: unknown state version " + std::to_string(msg.version()));
  if ((msg.address() & ~0x80FFFFFCu) || msg.reset_control() & ~0x0Eu)
    throw std::runtime_error("pci-host: state field out of range");
  address_ = msg.address();
  reset_control_ = static_cast<uint8_t>(msg.reset_control());
}

}  // namespace faultline
