// Event-loop latency measurement for the GUI tests: how late a 5 ms timer on
// the GUI thread fires while a worker runs flat out, and how late the host
// wakes a sleeping thread meanwhile (other processes on the cores delay
// everyone, so a bound on the worst gap means something only on a host that
// is not busy).
#pragma once

#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace faultline::gui::latency {

// Gaps between the ticks of a 5 ms timer over `ms` of a real event loop
// (the GUI thread sleeps between events, as in the application), sorted.
inline std::vector<qint64> timer_gaps(int ms) {
  QElapsedTimer clock;
  qint64 last = 0;
  std::vector<qint64> gaps;
  QTimer ping;
  ping.setInterval(5);
  QObject::connect(&ping, &QTimer::timeout, [&] {
    const qint64 now = clock.elapsed();
    gaps.push_back(now - last);
    last = now;
  });
  QEventLoop loop;
  QTimer::singleShot(ms, &loop, &QEventLoop::quit);
  clock.start();
  ping.start();
  loop.exec();
  std::sort(gaps.begin(), gaps.end());
  return gaps;
}

inline qint64 percentile(const std::vector<qint64>& sorted, double p) {
  if (sorted.empty()) return 1'000'000;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted.size())))];
}

// A control thread that measures, while it lives, how late the host wakes a
// thread sleeping 5 ms (the worst lateness in ms).
class HostLateness {
 public:
  HostLateness()
      : probe_([this] {
          while (probing_) {
            const auto t0 = std::chrono::steady_clock::now();
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            const long long late =
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
                    .count() -
                5;
            if (late > worst_ms_) worst_ms_ = late;
          }
        }) {}
  ~HostLateness() { stop(); }
  // Stops probing; returns the worst lateness seen.
  long long stop() {
    probing_ = false;
    if (probe_.joinable()) probe_.join();
    return worst_ms_;
  }

 private:
  std::atomic<bool> probing_{true};
  std::atomic<long long> worst_ms_{0};
  std::thread probe_;
};

// How loaded the host was while a latency was measured, from the paused
// window's worst timer gap and the control thread's worst wake-up lateness.
// Quiet: every bound means something. Busy: other processes take turns on
// the cores, so single gaps are theirs but the 95th percentile is still
// ours. Overloaded: every thread of the process was starved for hundreds of
// milliseconds (a CI host running other sanitizer tests on both cores);
// nothing measured then says anything about this program, and the tests
// print the figures instead of judging them.
enum class HostLoad { Quiet, Busy, Overloaded };
inline HostLoad host_load(long long paused_worst_ms, long long host_late_ms) {
  if (paused_worst_ms < 20 && host_late_ms < 20) return HostLoad::Quiet;
  if (paused_worst_ms < 50 && host_late_ms < 100) return HostLoad::Busy;
  return HostLoad::Overloaded;
}
inline const char* to_string(HostLoad l) {
  return l == HostLoad::Quiet ? "quiet" : l == HostLoad::Busy ? "busy" : "overloaded";
}

}  // namespace faultline::gui::latency
