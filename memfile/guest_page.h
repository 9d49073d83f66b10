#pragma once

#include <cstddef>

namespace faultline {

// Guest RAM is tracked, snapshotted and restored in units of the x86 small
// page, which is also the host page size on every host faultline runs on.
inline constexpr unsigned kGuestPageShift = 12;
inline constexpr std::size_t kGuestPageSize = std::size_t{1} << kGuestPageShift;

}  // namespace faultline
