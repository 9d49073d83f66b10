// SHA-256 (FIPS 180-4) for output digests of experiments.
//
// A small self-contained implementation: digests are compared between the
// golden run and every experiment and stored in the result database, so they
// must be stable across hosts; speed is secondary (outputs are a few KiB).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace faultline::campaign {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t len);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::array<uint8_t, 32> finish();

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace faultline::campaign
