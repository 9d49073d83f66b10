#pragma once

// Scratch directories and memory-content helpers shared by the memfile tests.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "memfile/memfile.h"

namespace faultline::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "memfile_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::vector<std::uint8_t> read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::filesystem::path& file, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<std::uint8_t> contents(const MemFile& memory) {
  return {memory.data(), memory.data() + memory.size()};
}

// Fills pages [first_page, first_page + pages) with seeded random bytes and
// marks them dirty, as the interpreter would.
inline void fill_random(MemFile& memory, std::uint64_t seed, std::size_t first_page = 0,
                        std::size_t pages = SIZE_MAX) {
  pages = std::min(pages, memory.page_count() - first_page);
  std::mt19937_64 random(seed);
  std::uint8_t* start = memory.data() + first_page * kGuestPageSize;
  for (std::size_t offset = 0; offset < pages * kGuestPageSize; offset += sizeof(std::uint64_t)) {
    const std::uint64_t word = random();
    std::memcpy(start + offset, &word, sizeof word);
  }
  memory.mark_dirty_range(first_page * kGuestPageSize, pages * kGuestPageSize);
}

inline void write_byte(MemFile& memory, std::uint64_t paddr, std::uint8_t value) {
  memory.data()[paddr] = value;
  memory.mark_dirty(paddr);
}

}  // namespace faultline::testing
