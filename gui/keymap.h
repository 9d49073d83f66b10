// Qt key codes to i8042 keys (US layout).
#pragma once

#include <optional>

#include "devices/i8042/scancodes.h"

namespace faultline::gui {

// The PC key for a Qt::Key value: letters, digits, punctuation (the
// unshifted key that produces the character; Shift travels as its own
// key), Enter, Backspace, Tab, Space, Escape, arrows, navigation keys,
// F1-F12, Shift/Control/Alt. nullopt for keys the PC keyboard lacks.
std::optional<i8042::KeyCode> map_qt_key(int qt_key);

}  // namespace faultline::gui
