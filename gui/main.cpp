// faultline-gui: the Qt front end.
//
//   faultline-gui [--memory MIB] [--kernel ELF [--cmdline STR]]
//                 [--linux BZIMAGE [--initrd FILE] [--append STR]] [--disk IMG]...
//                 [--bios FILE] [--vga-bios FILE|none]
//                 [--experiment-file FILE.textproto] [--snapshot FILE.flsnap]
//                 [--paused] [--screenshot-after-ms N FILE.png]
//   faultline-gui --campaign DB [--experiment ID]
//
// Automation (screenshots, demos): --wait-screen TEXT waits until TEXT is on
// the VGA text screen, then --type STR types STR on the keyboard ("\n" =
// Enter), --then-wait-screen TEXT waits until TEXT occurs on the screen
// more often than when typing began, and --screenshot FILE saves the
// window then and quits (exit status 0; 75 if --timeout-ms passes first);
// --print-screen also prints the text screen to stdout then.
// --compare-at TICK --compare-flip TARGET:BIT --screenshot FILE: runs the
// kernel to TICK, forks golden/faulty, flips the bit (a register or
// symbol[+off]) in the faulty copy, runs both in lockstep to the first
// divergence (printed) and saves the side-by-side window.
//
// --campaign opens the campaign monitor on a result database (live while a
// campaign writes to it); with --experiment a machine window replaying that
// experiment opens as well.
// --kernel / --linux load a kernel at start and run it (unless --paused);
// --disk (up to 4: IDE primary master, primary slave, secondary master,
// secondary slave) attaches disk images to a --linux machine; alone it
// boots the first through the firmware like a PC (Debian's SeaBIOS, or
// --bios FILE with --vga-bios FILE|none), as `faultline run` does;
// --snapshot continues a session saved to a snapshot file (File menu);
// --screenshot-after-ms saves a grab of the window N ms after start and quits
// (exit status 0 if the file was written).
#include <QApplication>
#include <QElapsedTimer>
#include <QPixmap>
#include <QTimer>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "faults/registers.h"
#include "gui/campaign_monitor.h"
#include "gui/compare_window.h"
#include "gui/fault_panel.h"
#include "gui/main_window.h"

namespace {
void usage() {
  std::fprintf(stderr,
               "usage: faultline-gui [--memory MIB] [--kernel ELF [--cmdline STR]]\n"
               "                     [--linux BZIMAGE [--initrd FILE] [--append STR]] [--disk IMG]...\n"
               "                     [--bios FILE] [--vga-bios FILE|none] (--disk alone: firmware boot)\n"
               "                     [--experiment-file FILE.textproto] [--snapshot FILE.flsnap]\n"
               "                     [--paused] [--screenshot-after-ms N FILE.png]\n"
               "       faultline-gui --campaign DB [--experiment ID] [--screenshot-after-ms N FILE.png]\n"
               "automation: [--wait-screen TEXT [--type STR] [--then-wait-screen TEXT]] [--screenshot FILE.png]\n"
               "            [--print-screen] [--timeout-ms N]\n"
               "            [--compare-at TICK --compare-flip TARGET:BIT --screenshot FILE.png]\n");
}
}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("faultline-gui");

  QString kernel, linux_kernel, initrd, append = "console=ttyS0", cmdline, shot_file, campaign_db, bios, vga_bios;
  QStringList disks;
  qint64 experiment = -1;
  QString wait_screen, type_str, then_wait, auto_shot, experiment_file, compare_flip, snapshot;
  qint64 compare_at = -1;
  bool print_screen = false;
  int timeout_ms = 300'000;
  int shot_ms = -1;
  bool paused = false;
  uint64_t memory_mib = 64;
  const QStringList args = QApplication::arguments();
  for (qsizetype i = 1; i < args.size(); ++i) {
    const QString& a = args[i];
    auto value = [&](QString& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    bool ok = true;
    QString num;
    if (a == "--kernel") ok = value(kernel);
    else if (a == "--linux") ok = value(linux_kernel);
    else if (a == "--initrd") ok = value(initrd);
    else if (a == "--disk") {
      QString d;
      ok = value(d);
      disks << d;
    } else if (a == "--bios") ok = value(bios);
    else if (a == "--vga-bios") ok = value(vga_bios);
    else if (a == "--append") ok = value(append);
    else if (a == "--cmdline") ok = value(cmdline);
    else if (a == "--paused") paused = true;
    else if (a == "--campaign") ok = value(campaign_db);
    else if (a == "--experiment-file") ok = value(experiment_file);
    else if (a == "--snapshot") ok = value(snapshot);
    else if (a == "--wait-screen") ok = value(wait_screen);
    else if (a == "--type") {
      ok = value(type_str);
      type_str.replace("\\n", "\n");
    } else if (a == "--then-wait-screen") ok = value(then_wait);
    else if (a == "--screenshot") ok = value(auto_shot);
    else if (a == "--print-screen") print_screen = true;
    else if (a == "--compare-at") {
      ok = value(num);
      if (ok) compare_at = num.toLongLong(&ok);
      ok = ok && compare_at >= 0;
    } else if (a == "--compare-flip") ok = value(compare_flip);
    else if (a == "--timeout-ms") {
      ok = value(num);
      if (ok) timeout_ms = num.toInt(&ok);
      ok = ok && timeout_ms > 0;
    }
    else if (a == "--experiment") {
      ok = value(num);
      if (ok) experiment = num.toLongLong(&ok);
      ok = ok && experiment >= 0;
    }
    else if (a == "--memory") {
      ok = value(num);
      if (ok) memory_mib = num.toULongLong(&ok);
      ok = ok && memory_mib >= 1 && memory_mib <= 3072;
    } else if (a == "--screenshot-after-ms") {
      ok = value(num) && value(shot_file);
      if (ok) shot_ms = num.toInt(&ok);
      ok = ok && shot_ms >= 0;
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "faultline-gui: bad argument '%s'\n", a.toLocal8Bit().constData());
      usage();
      return 64;
    }
  }
  if (!disks.isEmpty() && (!kernel.isEmpty() || !experiment_file.isEmpty() || !snapshot.isEmpty())) {
    std::fprintf(stderr, "faultline-gui: --disk goes with --linux or alone (a firmware boot)\n");
    return 64;
  }
  if ((!bios.isEmpty() || !vga_bios.isEmpty()) && (disks.isEmpty() || !linux_kernel.isEmpty())) {
    std::fprintf(stderr, "faultline-gui: --bios/--vga-bios need a firmware boot (--disk without --linux)\n");
    return 64;
  }
  const bool firmware = !disks.isEmpty() && linux_kernel.isEmpty();
  if (int(!kernel.isEmpty()) + int(!linux_kernel.isEmpty()) + int(!experiment_file.isEmpty()) + int(firmware) +
          int(!snapshot.isEmpty()) >
      1) {
    std::fprintf(stderr,
                 "faultline-gui: give at most one of --kernel, --linux, --disk, --experiment-file and --snapshot\n");
    return 64;
  }

  if (!campaign_db.isEmpty()) {
    if (!kernel.isEmpty() || !linux_kernel.isEmpty()) {
      std::fprintf(stderr, "faultline-gui: --campaign does not take --kernel/--linux\n");
      return 64;
    }
    faultline::gui::CampaignMonitor* mon = faultline::gui::MainWindow::open_campaign_monitor(campaign_db, nullptr);
    if (!mon) return 65;
    if (experiment >= 0) Q_EMIT mon->replay_requested(campaign_db, static_cast<quint64>(experiment));
    int status = 0;
    if (shot_ms >= 0) {
      QTimer::singleShot(shot_ms, mon, [&] {
        mon->refresh();
        if (!mon->grab().save(shot_file)) {
          std::fprintf(stderr, "faultline-gui: cannot write %s\n", shot_file.toLocal8Bit().constData());
          status = 73;
        }
        QApplication::quit();
      });
    }
    int rc = QApplication::exec();
    return status ? status : rc;
  }
  if (experiment >= 0) {
    std::fprintf(stderr, "faultline-gui: --experiment needs --campaign\n");
    return 64;
  }

  faultline::gui::MainWindow window(memory_mib);
  window.resize(1280, 860);
  window.show();
  bool loaded = true;
  if (!kernel.isEmpty()) loaded = window.open_multiboot(kernel, cmdline);
  else if (!linux_kernel.isEmpty()) loaded = window.open_linux(linux_kernel, initrd, append, disks);
  else if (!experiment_file.isEmpty()) loaded = window.open_experiment_file(experiment_file);
  else if (firmware) loaded = window.open_firmware(disks, bios, vga_bios);
  else if (!snapshot.isEmpty()) loaded = window.load_snapshot_file(snapshot);
  if (!loaded) {
    // The window shows the reason; say it here too for scripts.
    std::fprintf(stderr, "faultline-gui: %s\n", window.status_text().toLocal8Bit().constData());
    if (shot_ms >= 0) return 65;
  }
  if (compare_at >= 0) {
    // Demo of golden vs faulty: run to the tick, fork, flip REGISTER:BIT
    // (or SYMBOL+OFF:BIT) in the faulty copy, run in lockstep to the first
    // divergence, save --screenshot of the side-by-side window.
    if (!loaded || compare_flip.count(':') != 1 || auto_shot.isEmpty()) {
      std::fprintf(stderr, "faultline-gui: --compare-at needs a kernel, --compare-flip TARGET:BIT and --screenshot\n");
      return 64;
    }
    faultline::gui::Session& s = window.session();
    while (!s.finished() && s.cpu()->ticks() < static_cast<uint64_t>(compare_at))
      s.run_slice(static_cast<uint64_t>(compare_at) - s.cpu()->ticks());
    faultline::gui::CompareWindow* cw = window.open_compare();
    if (!cw) return 65;
    const QString target = compare_flip.section(':', 0, 0);
    bool bit_ok = false;
    const int bit = compare_flip.section(':', 1, 1).toInt(&bit_ok);
    if (faultline::faults::find_register(target.toStdString())) cw->fault_panel()->set_register_target(target);
    else cw->fault_panel()->set_symbol_target(target);
    cw->fault_panel()->set_bit(bit);
    if (!bit_ok || !cw->fault_panel()->inject()) {
      std::fprintf(stderr, "faultline-gui: cannot inject %s: %s\n", compare_flip.toLocal8Bit().constData(),
                   cw->fault_panel()->log_text().toLocal8Bit().constData());
      return 65;
    }
    cw->run();
    int status = 0;
    auto* poll = new QTimer(cw);
    QObject::connect(poll, &QTimer::timeout, cw, [&, cw, poll] {
      if (cw->running()) return;
      poll->stop();
      // Show the runs a little past the divergence, up to their ends.
      for (int i = 0; i < 200 && !cw->lockstep().finished(); ++i) cw->lockstep().step(100'000);
      cw->refresh();
      QApplication::processEvents();
      if (!cw->grab().save(auto_shot)) status = 73;
      std::printf("%s\n", cw->divergence_text().toLocal8Bit().constData());
      QApplication::quit();
    });
    poll->start(50);
    const int rc = QApplication::exec();
    return status ? status : rc;
  }
  if (loaded && (!kernel.isEmpty() || !linux_kernel.isEmpty() || !experiment_file.isEmpty() || !snapshot.isEmpty()) &&
      !paused)
    window.run();

  int status = 0;
  if (!wait_screen.isEmpty() || !auto_shot.isEmpty()) {
    // Automation: a 100 ms poll drives the steps.
    auto* poll = new QTimer(&window);
    QElapsedTimer clock;
    clock.start();
    int stage = wait_screen.isEmpty() ? 2 : 0;
    qsizetype seen = 0;
    QObject::connect(poll, &QTimer::timeout, &window, [&, poll] {
      if (clock.elapsed() > timeout_ms) {
        std::fprintf(stderr, "faultline-gui: automation timed out at step %d; screen:\n%s\n", stage,
                     window.screen_text().toLocal8Bit().constData());
        status = 75;
        poll->stop();
        QApplication::quit();
        return;
      }
      const QString screen = window.screen_text();
      if (stage == 0 && screen.contains(wait_screen)) {
        stage = 1;
        window.type_text(type_str);
        seen = then_wait.isEmpty() ? 0 : window.screen_text().count(then_wait);
      } else if (stage == 1 && (then_wait.isEmpty() || screen.count(then_wait) > seen)) {
        stage = 2;
      }
      if (stage == 2) {
        poll->stop();
        if (print_screen) std::printf("%s\n", window.screen_text().toLocal8Bit().constData());
        if (!auto_shot.isEmpty()) {
          window.refresh();
          QApplication::processEvents();
          window.pause();
          window.refresh();
          if (!window.grab().save(auto_shot)) {
            std::fprintf(stderr, "faultline-gui: cannot write %s\n", auto_shot.toLocal8Bit().constData());
            status = 73;
          }
          QApplication::quit();
        }
      }
    });
    poll->start(100);
  }
  if (shot_ms >= 0) {
    QTimer::singleShot(shot_ms, &window, [&] {
      window.pause();
      window.refresh();
      if (!window.grab().save(shot_file)) {
        std::fprintf(stderr, "faultline-gui: cannot write %s\n", shot_file.toLocal8Bit().constData());
        status = 73;
      }
      QApplication::quit();
    });
  }
  int rc = QApplication::exec();
  return status ? status : rc;
}
