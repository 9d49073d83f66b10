#include "gui/vga_view.h"

#include <QKeyEvent>
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

}  // namespace faultline::gui
