// The VGA screen: paints the latest rendered frame scaled into the widget
// with a 4:3 display aspect (letterboxed) and turns key events into i8042
// key presses and releases. A click captures the mouse (cursor hidden,
// grabbed): movements, buttons and the wheel then go to the PS/2 mouse as
// relative motion (PS/2 y grows upwards) until Ctrl+Alt releases it.
#pragma once

#include <QImage>
#include <QWidget>
#include <cstdint>
#include <functional>

#include "devices/i8042/scancodes.h"
#include "devices/vga/image.h"

namespace faultline::gui {

// A deep copy of an RGB888 picture as a QImage.
QImage to_qimage(const Image& image);

class VgaView : public QWidget {
  Q_OBJECT

 public:
  explicit VgaView(QWidget* parent = nullptr);
  void set_frame(const Image& image);
  void set_frame(QImage image);
  const QImage& frame() const { return frame_; }
  // Called for every mapped key: (key, pressed).
  void set_key_handler(std::function<void(i8042::KeyCode, bool)> handler) { key_handler_ = std::move(handler); }
  // Called for captured mouse input: (dx, dy, buttons: bit 0 left, 1 right,
  // 2 middle, dz wheel).
  void set_mouse_handler(std::function<void(int, int, uint8_t, int)> handler) { mouse_handler_ = std::move(handler); }
  bool mouse_captured() const { return captured_; }
  void release_mouse();
  // Where the frame is drawn for a widget of the given size.
  static QRect display_rect(const QSize& widget);
  QSize sizeHint() const override { return {720, 540}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;
  bool focusNextPrevChild(bool) override { return false; }  // Tab goes to the guest
  void mousePressEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;

 private:
  QImage frame_;
  std::function<void(i8042::KeyCode, bool)> key_handler_;
  std::function<void(int, int, uint8_t, int)> mouse_handler_;
  bool captured_ = false;
  QPoint last_pos_;
  uint8_t buttons(Qt::MouseButtons b) const;
};

}  // namespace faultline::gui
