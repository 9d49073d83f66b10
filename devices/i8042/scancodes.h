// Keys of a 105-key PC keyboard and their scan codes.
//
// Design note: one X-macro table lists every key once with its set 2 make
// code (what the PS/2 keyboard sends by default), its set 1 make code and
// whether both carry the E0 prefix; make/break sequences for sets 1 and 2
// are derived from it. The 8042 controller's set 2 -> set 1 translation is
// a separate byte table (0x00-0x84; higher bytes pass unchanged) because
// the real controller translates byte by byte without knowing about keys
// (it also rewrites bytes no key produces, such as the keyboard's ID and
// scan-set replies); the tests check that it turns every key's set 2
// sequences into its set 1 sequences.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace faultline::i8042 {

// name, set 2 make, set 1 make, E0-prefixed
// clang-format off
#define FAULTLINE_PS2_KEYS(FL_KEY)                                                                                  \
  FL_KEY(Escape, 0x76, 0x01, 0)         FL_KEY(F1, 0x05, 0x3B, 0)             FL_KEY(F2, 0x06, 0x3C, 0)             \
  FL_KEY(F3, 0x04, 0x3D, 0)             FL_KEY(F4, 0x0C, 0x3E, 0)             FL_KEY(F5, 0x03, 0x3F, 0)             \
  FL_KEY(F6, 0x0B, 0x40, 0)             FL_KEY(F7, 0x83, 0x41, 0)             FL_KEY(F8, 0x0A, 0x42, 0)             \
  FL_KEY(F9, 0x01, 0x43, 0)             FL_KEY(F10, 0x09, 0x44, 0)            FL_KEY(F11, 0x78, 0x57, 0)            \
  FL_KEY(F12, 0x07, 0x58, 0)            FL_KEY(ScrollLock, 0x7E, 0x46, 0)     FL_KEY(Backquote, 0x0E, 0x29, 0)      \
  FL_KEY(Digit1, 0x16, 0x02, 0)         FL_KEY(Digit2, 0x1E, 0x03, 0)         FL_KEY(Digit3, 0x26, 0x04, 0)         \
  FL_KEY(Digit4, 0x25, 0x05, 0)         FL_KEY(Digit5, 0x2E, 0x06, 0)         FL_KEY(Digit6, 0x36, 0x07, 0)         \
  FL_KEY(Digit7, 0x3D, 0x08, 0)         FL_KEY(Digit8, 0x3E, 0x09, 0)         FL_KEY(Digit9, 0x46, 0x0A, 0)         \
  FL_KEY(Digit0, 0x45, 0x0B, 0)         FL_KEY(Minus, 0x4E, 0x0C, 0)          FL_KEY(Equal, 0x55, 0x0D, 0)          \
  FL_KEY(Backspace, 0x66, 0x0E, 0)      FL_KEY(Tab, 0x0D, 0x0F, 0)            FL_KEY(Q, 0x15, 0x10, 0)              \
  FL_KEY(W, 0x1D, 0x11, 0)              FL_KEY(E, 0x24, 0x12, 0)              FL_KEY(R, 0x2D, 0x13, 0)              \
  FL_KEY(T, 0x2C, 0x14, 0)              FL_KEY(Y, 0x35, 0x15, 0)              FL_KEY(U, 0x3C, 0x16, 0)              \
  FL_KEY(I, 0x43, 0x17, 0)              FL_KEY(O, 0x44, 0x18, 0)              FL_KEY(P, 0x4D, 0x19, 0)              \
  FL_KEY(BracketLeft, 0x54, 0x1A, 0)    FL_KEY(BracketRight, 0x5B, 0x1B, 0)   FL_KEY(Backslash, 0x5D, 0x2B, 0)      \
  FL_KEY(CapsLock, 0x58, 0x3A, 0)       FL_KEY(A, 0x1C, 0x1E, 0)              FL_KEY(S, 0x1B, 0x1F, 0)              \
  FL_KEY(D, 0x23, 0x20, 0)              FL_KEY(F, 0x2B, 0x21, 0)              FL_KEY(G, 0x34, 0x22, 0)              \
  FL_KEY(H, 0x33, 0x23, 0)              FL_KEY(J, 0x3B, 0x24, 0)              FL_KEY(K, 0x42, 0x25, 0)              \
  FL_KEY(L, 0x4B, 0x26, 0)              FL_KEY(Semicolon, 0x4C, 0x27, 0)      FL_KEY(Quote, 0x52, 0x28, 0)          \
  FL_KEY(Enter, 0x5A, 0x1C, 0)          FL_KEY(ShiftLeft, 0x12, 0x2A, 0)      FL_KEY(IntlBackslash, 0x61, 0x56, 0)  \
  FL_KEY(Z, 0x1A, 0x2C, 0)              FL_KEY(X, 0x22, 0x2D, 0)              FL_KEY(C, 0x21, 0x2E, 0)              \
  FL_KEY(V, 0x2A, 0x2F, 0)              FL_KEY(B, 0x32, 0x30, 0)              FL_KEY(N, 0x31, 0x31, 0)              \
  FL_KEY(M, 0x3A, 0x32, 0)              FL_KEY(Comma, 0x41, 0x33, 0)          FL_KEY(Period, 0x49, 0x34, 0)         \
  FL_KEY(Slash, 0x4A, 0x35, 0)          FL_KEY(ShiftRight, 0x59, 0x36, 0)     FL_KEY(ControlLeft, 0x14, 0x1D, 0)    \
  FL_KEY(MetaLeft, 0x1F, 0x5B, 1)       FL_KEY(AltLeft, 0x11, 0x38, 0)        FL_KEY(Space, 0x29, 0x39, 0)          \
  FL_KEY(AltRight, 0x11, 0x38, 1)       FL_KEY(MetaRight, 0x27, 0x5C, 1)      FL_KEY(ContextMenu, 0x2F, 0x5D, 1)    \
  FL_KEY(ControlRight, 0x14, 0x1D, 1)   FL_KEY(Insert, 0x70, 0x52, 1)         FL_KEY(Home, 0x6C, 0x47, 1)           \
  FL_KEY(PageUp, 0x7D, 0x49, 1)         FL_KEY(Delete, 0x71, 0x53, 1)         FL_KEY(End, 0x69, 0x4F, 1)            \
  FL_KEY(PageDown, 0x7A, 0x51, 1)       FL_KEY(ArrowUp, 0x75, 0x48, 1)        FL_KEY(ArrowLeft, 0x6B, 0x4B, 1)      \
  FL_KEY(ArrowDown, 0x72, 0x50, 1)      FL_KEY(ArrowRight, 0x74, 0x4D, 1)     FL_KEY(NumLock, 0x77, 0x45, 0)        \
  FL_KEY(NumpadDivide, 0x4A, 0x35, 1)   FL_KEY(NumpadMultiply, 0x7C, 0x37, 0) FL_KEY(NumpadSubtract, 0x7B, 0x4A, 0) \
  FL_KEY(Numpad7, 0x6C, 0x47, 0)        FL_KEY(Numpad8, 0x75, 0x48, 0)        FL_KEY(Numpad9, 0x7D, 0x49, 0)        \
  FL_KEY(NumpadAdd, 0x79, 0x4E, 0)      FL_KEY(Numpad4, 0x6B, 0x4B, 0)        FL_KEY(Numpad5, 0x73, 0x4C, 0)        \
  FL_KEY(Numpad6, 0x74, 0x4D, 0)        FL_KEY(Numpad1, 0x69, 0x4F, 0)        FL_KEY(Numpad2, 0x72, 0x50, 0)        \
  FL_KEY(Numpad3, 0x7A, 0x51, 0)        FL_KEY(Numpad0, 0x70, 0x52, 0)        FL_KEY(NumpadDecimal, 0x71, 0x53, 0)  \
  FL_KEY(NumpadEnter, 0x5A, 0x1C, 1)
// clang-format on

enum class KeyCode : uint8_t {
#define FAULTLINE_KEY_ENUM(name, s2, s1, ext) name,
  FAULTLINE_PS2_KEYS(FAULTLINE_KEY_ENUM)
#undef FAULTLINE_KEY_ENUM
  // Keys with multi-byte sequences of their own (no break code for Pause).
  PrintScreen,
  Pause,
  Count
};

inline constexpr size_t kKeyCount = static_cast<size_t>(KeyCode::Count);

std::string_view key_name(KeyCode key);

// Bytes the keyboard sends for a key in scan code set 1 or 2 (set 3 is not
// modelled: a keyboard switched to set 3 keeps sending set 2).
std::vector<uint8_t> make_code(KeyCode key, int scan_set);
std::vector<uint8_t> break_code(KeyCode key, int scan_set);

// The 8042's set 2 -> set 1 translation of one byte (F0 handled by the
// caller: it sets bit 7 of the next translated byte).
uint8_t translate_set2_to_set1(uint8_t byte);

// US layout: the key (and whether Shift is needed) for a character;
// returns false for characters no key produces.
bool key_for_char(char c, KeyCode& key, bool& shift);

}  // namespace faultline::i8042
