#include "gui/vga_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QWheelEvent>
#include <QPainter>

#include "gui/keymap.h"

namespace faultline::gui {

QImage to_qimage(const Image& image) {
  if (image.width == 0 || image.height == 0) return {};
  QImage view(image.rgb.data(), static_cast<int>(image.width), static_cast<int>(image.height),
              static_cast<qsizetype>(image.width) * 3, QImage::Format_RGB888);
  return view.copy();
}

VgaView::VgaView(QWidget* parent) : QWidget(parent) {
  setFocusPolicy(Qt::StrongFocus);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setMinimumSize(320, 240);
}

void VgaView::set_frame(const Image& image) { set_frame(to_qimage(image)); }

void VgaView::set_frame(QImage image) {
  frame_ = std::move(image);
  update();
}

QRect VgaView::display_rect(const QSize& widget) {
  int w = widget.width(), h = widget.height();
  if (w * 3 > h * 4) w = h * 4 / 3;  // too wide: bars left and right
  else h = w * 3 / 4;                // too tall: bars top and bottom
  return QRect((widget.width() - w) / 2, (widget.height() - h) / 2, w, h);
}

void VgaView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), Qt::black);
  if (frame_.isNull()) {
    p.setPen(Qt::gray);
    p.drawText(rect(), Qt::AlignCenter, tr("No kernel loaded (File → Open)"));
    return;
  }
  p.setRenderHint(QPainter::SmoothPixmapTransform);
  p.drawImage(display_rect(size()), frame_);
}

void VgaView::keyPressEvent(QKeyEvent* event) {
  // Ctrl+Alt (in either order) releases a captured mouse.
  const Qt::KeyboardModifiers m = event->modifiers();
  const bool ctrl = (m & Qt::ControlModifier) || event->key() == Qt::Key_Control;
  const bool alt = (m & Qt::AltModifier) || event->key() == Qt::Key_Alt;
  if (captured_ && ctrl && alt) {
    release_mouse();
    return event->accept();
  }
  auto key = map_qt_key(event->key());
  if (!key || !key_handler_) return QWidget::keyPressEvent(event);
  key_handler_(*key, true);  // auto-repeat: repeated make codes, as typematic
  event->accept();
}

void VgaView::keyReleaseEvent(QKeyEvent* event) {
  auto key = map_qt_key(event->key());
  if (!key || !key_handler_) return QWidget::keyReleaseEvent(event);
  if (!event->isAutoRepeat()) key_handler_(*key, false);
  event->accept();
}

uint8_t VgaView::buttons(Qt::MouseButtons b) const {
  return static_cast<uint8_t>(((b & Qt::LeftButton) ? 1 : 0) | ((b & Qt::RightButton) ? 2 : 0) |
                              ((b & Qt::MiddleButton) ? 4 : 0));
}

void VgaView::release_mouse() {
  if (!captured_) return;
  captured_ = false;
  releaseMouse();
  unsetCursor();
  setMouseTracking(false);
}

void VgaView::mousePressEvent(QMouseEvent* event) {
  setFocus();
  if (!mouse_handler_) return QWidget::mousePressEvent(event);
  if (!captured_) {
    // The first click captures; it is not passed on.
    captured_ = true;
    last_pos_ = event->position().toPoint();
    setMouseTracking(true);
    grabMouse();
    setCursor(Qt::BlankCursor);
    setToolTip(tr("Mouse captured: Ctrl+Alt releases it"));
    return event->accept();
  }
  mouse_handler_(0, 0, buttons(event->buttons()), 0);
  event->accept();
}

void VgaView::mouseReleaseEvent(QMouseEvent* event) {
  if (!captured_ || !mouse_handler_) return QWidget::mouseReleaseEvent(event);
  mouse_handler_(0, 0, buttons(event->buttons()), 0);
  event->accept();
}

void VgaView::mouseMoveEvent(QMouseEvent* event) {
  if (!captured_ || !mouse_handler_) return QWidget::mouseMoveEvent(event);
  const QPoint p = event->position().toPoint();
  const int dx = p.x() - last_pos_.x(), dy = last_pos_.y() - p.y();
  last_pos_ = p;
  if (dx || dy) mouse_handler_(dx, dy, buttons(event->buttons()), 0);
  event->accept();
}

void VgaView::wheelEvent(QWheelEvent* event) {
  if (!captured_ || !mouse_handler_) return QWidget::wheelEvent(event);
  const int steps = event->angleDelta().y() / 120;
  // PS/2 wheel: positive dz scrolls down.
  if (steps) mouse_handler_(0, 0, buttons(event->buttons()), -steps);
  event->accept();
}

}  // namespace faultline::gui
