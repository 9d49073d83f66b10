// Device-register fault targets by name: the catalog of fields a campaign
// may name, and matching of DeviceSpace names against it.
//
// The catalog is what PcPlatform::fault_fields() lists (devices/fault_field.h
// and each device's fault_fields() for the semantics of a write). It is known
// without running anything: default_pc_device_fields() builds a throwaway
// Machine (1 MiB) and a PcPlatform with all four COM ports and the PCI IDE
// channels and lists its fields (a few milliseconds). A platform configured
// with fewer COM ports or without PCI IDE has a subset; the injector rejects
// a field its platform does not have.
#pragma once

#include <string>
#include <vector>

namespace faultline {
class PcPlatform;
}

namespace faultline::faults {

struct DeviceFieldInfo {
  std::string name;
  unsigned bits = 8;
};

std::vector<DeviceFieldInfo> device_field_infos(PcPlatform& pc);
std::vector<DeviceFieldInfo> default_pc_device_fields();

// Fields a DeviceSpace name selects, in catalog order: the exact name, or
// for a name ending in '*' every field starting with the rest. Empty when
// nothing matches.
std::vector<DeviceFieldInfo> match_device_fields(const std::vector<DeviceFieldInfo>& catalog,
                                                 const std::string& pattern);

// A short hint for an unknown name: the closest catalog names ("" if none).
std::string device_field_suggestion(const std::vector<DeviceFieldInfo>& catalog, const std::string& name);

}  // namespace faultline::faults
