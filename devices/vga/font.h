// The built-in 8x16 text font, used for character maps plane 2 does not
// hold (no VGA BIOS loaded a font). Glyphs exist for printable ASCII
// (0x20-0x7E); every other code is blank.
#pragma once

#include <cstdint>

namespace faultline {

constexpr unsigned kBuiltinFontHeight = 16;
// The 16 rows of `ch`, top first; bit 7 is the leftmost pixel.
const uint8_t* builtin_glyph(uint8_t ch);

}  // namespace faultline
