#include "faults/device_fields.h"

#include <algorithm>

#include "core/machine.h"
#include "devices/pc/pc_platform.h"

namespace faultline::faults {

std::vector<DeviceFieldInfo> device_field_infos(PcPlatform& pc) {
  std::vector<DeviceFieldInfo> out;
  for (const FaultField& f : pc.fault_fields()) out.push_back({f.name, f.bits});
  return out;
}

std::vector<DeviceFieldInfo> default_pc_device_fields() {
  MachineConfig mc;
  mc.memory_mib = 1;
  Machine m{mc};
  PcConfig pc;
  for (auto& c : pc.com) c.backend = SerialBackend::Discard;
  pc.fw_cfg = false;
  pc.vga = false;
  pc.pci_ide = true;
  PcPlatform platform{m, pc};
  return device_field_infos(platform);
}

std::vector<DeviceFieldInfo> match_device_fields(const std::vector<DeviceFieldInfo>& catalog,
                                                 const std::string& pattern) {
  std::vector<DeviceFieldInfo> out;
  if (!pattern.empty() && pattern.back() == '*') {
    const std::string prefix = pattern.substr(0, pattern.size() - 1);
    for (const DeviceFieldInfo& f : catalog)
      if (f.name.compare(0, prefix.size(), prefix) == 0) out.push_back(f);
    return out;
  }
  for (const DeviceFieldInfo& f : catalog)
    if (f.name == pattern) out.push_back(f);
  return out;
}

std::string device_field_suggestion(const std::vector<DeviceFieldInfo>& catalog, const std::string& name) {
  // Fields of the same device (the part before the last '.'), else the
  // device prefixes.
  std::string dev = name.substr(0, name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
  std::vector<std::string> same;
  for (const DeviceFieldInfo& f : catalog)
    if (!dev.empty() && f.name.compare(0, dev.size(), dev) == 0 && f.name.find("cmos[") == std::string::npos)
      same.push_back(f.name);
  std::string out;
  if (!same.empty()) {
    for (const std::string& s : same) out += (out.empty() ? "" : " ") + s;
    return " (fields of " + dev.substr(0, dev.size() - 1) + ": " + out + ")";
  }
  std::vector<std::string> prefixes;
  for (const DeviceFieldInfo& f : catalog) {
    std::string p = f.name.substr(0, f.name.rfind('.') + 1);
    if (std::find(prefixes.begin(), prefixes.end(), p) == prefixes.end()) prefixes.push_back(p);
  }
  for (const std::string& p : prefixes) out += (out.empty() ? "" : " ") + p + "*";
  return " (devices: " + out + ")";
}

}  // namespace faultline::faults
