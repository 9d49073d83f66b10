// Shared fixtures of the campaign tests: a small campaign on the checksum
// guest kernel and a temporary directory.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "experiments/loader/campaign_loader.h"

namespace faultline::testing {

// Bit flips over the checksum kernel's data buffer (flips between the fill
// and the checksum loop change the printed checksum: SDC; others are
// overwritten or come too late: BENIGN) and over an unused RAM range (always
// BENIGN). The guest's own "checksum mismatch" exit (status 1) is not listed
// as detected, so a changed checksum counts as SDC; exceptions are crashes.
inline std::string checksum_campaign_text(uint64_t samples, uint64_t seed = 42) {
  return R"(
name: "checksum_flips"
machine { memory_mib: 16 }
workload { multiboot { kernel: "${FAULTLINE_GUEST_DIR}/checksum.elf" } }
end { timeout_factor: 2.0 timeout_margin: 100000 }
checkpoints: 8
fault_space {
  name: "data_buffer"
  target { memory { symbol: "data_buffer" } }
  model { bit_flip {} }
  trigger { instructions { start: 0 end: 0 step: 1 } }
}
fault_space {
  name: "unused"
  target { memory { physical { start: 0x800000 end: 0x801000 } } }
  model { bit_flip {} }
  trigger { instructions { start: 0 end: 0 step: 1 } }
}
sampling { samples: )" + std::to_string(samples) + " seed: " + std::to_string(seed) + R"( }
classification {
  crash_patterns: "UNEXPECTED"
  crash_exit_statuses: [96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114]
}
)";
}

inline experiments::LoaderVars guest_vars() { return {{"FAULTLINE_GUEST_DIR", FAULTLINE_GUEST_DIR}}; }

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "faultline-campaign-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace faultline::testing
