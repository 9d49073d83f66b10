// Scan code sequences for sets 1 and 2, the 8042 translation table and the
// US-layout character map used by type_text().
#include "devices/i8042/scancodes.h"

#include <array>

namespace faultline::i8042 {
namespace {

struct KeyInfo {
  std::string_view name;
  uint8_t set2;
  uint8_t set1;
  bool extended;
};

constexpr KeyInfo kKeys[] = {
#define FAULTLINE_KEY_INFO(name, s2, s1, ext) {#name, s2, s1, ext != 0},
    FAULTLINE_PS2_KEYS(FAULTLINE_KEY_INFO)
#undef FAULTLINE_KEY_INFO
};
static_assert(std::size(kKeys) == static_cast<size_t>(KeyCode::PrintScreen));

// The controller's translation of keyboard bytes 0x00..0x84 (set 2 codes,
// including the unused ones) to set 1; bytes above 0x84 pass unchanged.
// clang-format off
constexpr std::array<uint8_t, 0x85> kSet2ToSet1 = {
    0xFF, 0x43, 0x41, 0x3F, 0x3D, 0x3B, 0x3C, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3E, 0x0F, 0x29, 0x59,  // 00
    0x65, 0x38, 0x2A, 0x70, 0x1D, 0x10, 0x02, 0x5A, 0x66, 0x71, 0x2C, 0x1F, 0x1E, 0x11, 0x03, 0x5B,  // 10
    0x67, 0x2E, 0x2D, 0x20, 0x12, 0x05, 0x04, 0x5C, 0x68, 0x39, 0x2F, 0x21, 0x14, 0x13, 0x06, 0x5D,  // 20
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5E, 0x6A, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5F,  // 30
    0x6B, 0x33, 0x25, 0x17, 0x18, 0x0B, 0x0A, 0x60, 0x6C, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0C, 0x61,  // 40
    0x6D, 0x73, 0x28, 0x74, 0x1A, 0x0D, 0x62, 0x6E, 0x3A, 0x36, 0x1C, 0x1B, 0x75, 0x2B, 0x63, 0x76,  // 50
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7A, 0x0E, 0x7B, 0x7C, 0x4F, 0x7D, 0x4B, 0x47, 0x7E, 0x7F, 0x6F,  // 60
    0x52, 0x53, 0x50, 0x4C, 0x4D, 0x48, 0x01, 0x45, 0x57, 0x4E, 0x51, 0x4A, 0x37, 0x49, 0x46, 0x54,  // 70
    0x80, 0x81, 0x82, 0x41, 0x54,                                                                    // 80
};
// clang-format on

const KeyInfo& info(KeyCode key) { return kKeys[static_cast<size_t>(key)]; }

}  // namespace

std::string_view key_name(KeyCode key) {
  if (key == KeyCode::PrintScreen) return "PrintScreen";
  if (key == KeyCode::Pause) return "Pause";
  if (key >= KeyCode::Count) return "?";
  return info(key).name;
}

std::vector<uint8_t> make_code(KeyCode key, int scan_set) {
  bool set1 = scan_set == 1;
  switch (key) {
    case KeyCode::PrintScreen:
      return set1 ? std::vector<uint8_t>{0xE0, 0x2A, 0xE0, 0x37}
                  : std::vector<uint8_t>{0xE0, 0x12, 0xE0, 0x7C};
    case KeyCode::Pause:
      return set1 ? std::vector<uint8_t>{0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5}
                  : std::vector<uint8_t>{0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
    case KeyCode::Count:
      return {};
    default:
      break;
  }
  const KeyInfo& k = info(key);
  std::vector<uint8_t> out;
  if (k.extended) out.push_back(0xE0);
  out.push_back(set1 ? k.set1 : k.set2);
  return out;
}

std::vector<uint8_t> break_code(KeyCode key, int scan_set) {
  bool set1 = scan_set == 1;
  switch (key) {
    case KeyCode::PrintScreen:
      return set1 ? std::vector<uint8_t>{0xE0, 0xB7, 0xE0, 0xAA}
                  : std::vector<uint8_t>{0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
    case KeyCode::Pause:  // no break code: the make sequence already is make+break
    case KeyCode::Count:
      return {};
    default:
      break;
  }
  const KeyInfo& k = info(key);
  std::vector<uint8_t> out;
  if (k.extended) out.push_back(0xE0);
  if (set1) {
    out.push_back(static_cast<uint8_t>(k.set1 | 0x80));
  } else {
    out.push_back(0xF0);
    out.push_back(k.set2);
  }
  return out;
}

uint8_t translate_set2_to_set1(uint8_t byte) { return byte < kSet2ToSet1.size() ? kSet2ToSet1[byte] : byte; }

bool key_for_char(char c, KeyCode& key, bool& shift) {
  using K = KeyCode;
  shift = false;
  if (c >= 'a' && c <= 'z') {
    static constexpr K kLetters[26] = {K::A, K::B, K::C, K::D, K::E, K::F, K::G, K::H, K::I,
                                       K::J, K::K, K::L, K::M, K::N, K::O, K::P, K::Q, K::R,
                                       K::S, K::T, K::U, K::V, K::W, K::X, K::Y, K::Z};
    key = kLetters[c - 'a'];
    return true;
  }
  if (c >= 'A' && c <= 'Z') {
    key_for_char(static_cast<char>(c - 'A' + 'a'), key, shift);
    shift = true;
    return true;
  }
  static constexpr K kDigits[10] = {K::Digit0, K::Digit1, K::Digit2, K::Digit3, K::Digit4,
                                    K::Digit5, K::Digit6, K::Digit7, K::Digit8, K::Digit9};
  if (c >= '0' && c <= '9') {
    key = kDigits[c - '0'];
    return true;
  }
  struct Sym {
    char plain, shifted;
    K key;
  };
  static constexpr Sym kSymbols[] = {
      {'`', '~', K::Backquote},   {'-', '_', K::Minus},        {'=', '+', K::Equal},
      {'[', '{', K::BracketLeft}, {']', '}', K::BracketRight}, {'\\', '|', K::Backslash},
      {';', ':', K::Semicolon},   {'\'', '"', K::Quote},       {',', '<', K::Comma},
      {'.', '>', K::Period},      {'/', '?', K::Slash},        {' ', 0, K::Space},
      {'\n', 0, K::Enter},        {'\t', 0, K::Tab},           {'\b', 0, K::Backspace},
      {'\x1b', 0, K::Escape},     {'1', '!', K::Digit1},       {'2', '@', K::Digit2},
      {'3', '#', K::Digit3},      {'4', '$', K::Digit4},       {'5', '%', K::Digit5},
      {'6', '^', K::Digit6},      {'7', '&', K::Digit7},       {'8', '*', K::Digit8},
      {'9', '(', K::Digit9},      {'0', ')', K::Digit0},
  };
  for (const Sym& s : kSymbols) {
    if (c == s.plain) {
      key = s.key;
      return true;
    }
    if (s.shifted && c == s.shifted) {
      key = s.key;
      shift = true;
      return true;
    }
  }
  if (c == '\r') {
    key = K::Enter;
    return true;
  }
  return false;
}

}  // namespace faultline::i8042
