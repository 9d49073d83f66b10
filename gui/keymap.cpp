#include "gui/keymap.h"

#include <Qt>

namespace faultline::gui {

std::optional<i8042::KeyCode> map_qt_key(int qt_key) {
  using i8042::KeyCode;
  switch (qt_key) {
    case Qt::Key_Return: return KeyCode::Enter;
    case Qt::Key_Enter: return KeyCode::NumpadEnter;
    case Qt::Key_Backspace: return KeyCode::Backspace;
    case Qt::Key_Tab:
    case Qt::Key_Backtab: return KeyCode::Tab;
    case Qt::Key_Space: return KeyCode::Space;
    case Qt::Key_Escape: return KeyCode::Escape;
    case Qt::Key_Left: return KeyCode::ArrowLeft;
    case Qt::Key_Right: return KeyCode::ArrowRight;
    case Qt::Key_Up: return KeyCode::ArrowUp;
    case Qt::Key_Down: return KeyCode::ArrowDown;
    case Qt::Key_Home: return KeyCode::Home;
    case Qt::Key_End: return KeyCode::End;
    case Qt::Key_PageUp: return KeyCode::PageUp;
    case Qt::Key_PageDown: return KeyCode::PageDown;
    case Qt::Key_Insert: return KeyCode::Insert;
    case Qt::Key_Delete: return KeyCode::Delete;
    case Qt::Key_Shift: return KeyCode::ShiftLeft;
    case Qt::Key_Control: return KeyCode::ControlLeft;
    case Qt::Key_Alt: return KeyCode::AltLeft;
    case Qt::Key_CapsLock: return KeyCode::CapsLock;
    case Qt::Key_F1: return KeyCode::F1;
    case Qt::Key_F2: return KeyCode::F2;
    case Qt::Key_F3: return KeyCode::F3;
    case Qt::Key_F4: return KeyCode::F4;
    case Qt::Key_F5: return KeyCode::F5;
    case Qt::Key_F6: return KeyCode::F6;
    case Qt::Key_F7: return KeyCode::F7;
    case Qt::Key_F8: return KeyCode::F8;
    case Qt::Key_F9: return KeyCode::F9;
    case Qt::Key_F10: return KeyCode::F10;
    case Qt::Key_F11: return KeyCode::F11;
    case Qt::Key_F12: return KeyCode::F12;
    default: break;
  }
  // Printable ASCII: Qt::Key values equal the (upper-case) character.
  if (qt_key >= 0x21 && qt_key <= 0x7E) {
    char c = static_cast<char>(qt_key);
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    KeyCode key;
    bool shift = false;
    if (i8042::key_for_char(c, key, shift)) return key;
  }
  return std::nullopt;
}

}  // namespace faultline::gui
