#include "experiments/campaign/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <stdexcept>

namespace faultline::campaign {

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const char* outcome_label(pb::Outcome o) {
  switch (o) {
    case pb::BENIGN: return "benign";
    case pb::SDC: return "sdc";
    case pb::DETECTED: return "detected";
    case pb::CRASH: return "crash";
    case pb::HANG: return "hang";
    case pb::SIMULATOR_ERROR: return "sim-error";
    case pb::NOT_TRIGGERED: return "not-triggered";
    default: return "?";
  }
}

bool write_all(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, void* data, size_t len) {
  char* p = static_cast<char*>(data);
  while (len > 0) {
    ssize_t n = ::read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool write_frame(int fd, const std::string& payload) {
  uint32_t len = static_cast<uint32_t>(payload.size());
  std::string frame(reinterpret_cast<const char*>(&len), 4);
  frame += payload;
  return write_all(fd, frame.data(), frame.size());
}

std::string encode_job(const Job& j) {
  std::string s(12, '\0');
  std::memcpy(s.data(), &j.position, 8);
  std::memcpy(s.data() + 8, &j.attempt, 4);
  s += j.fault.SerializeAsString();
  return s;
}

struct CrashHook {
  bool set = false;
  uint64_t position = 0;
  bool once = false;
};

CrashHook crash_hook_from_env() {
  CrashHook h;
  const char* v = std::getenv("FAULTLINE_TEST_CRASH_EXPERIMENT");
  if (!v || !*v) return h;
  char* end = nullptr;
  h.position = std::strtoull(v, &end, 10);
  h.set = end != v;
  h.once = end && std::strcmp(end, ":once") == 0;
  return h;
}

[[noreturn]] void worker_main(const Session& session, int in_fd, int out_fd) {
  const CrashHook hook = crash_hook_from_env();
  int rc = 0;
  try {
    auto rig = session.make_machine();
    for (;;) {
      uint32_t len = 0;
      if (!read_all(in_fd, &len, 4)) break;  // parent closed the pipe: done
      std::string buf(len, '\0');
      if (len < 12 || !read_all(in_fd, buf.data(), len)) {
        rc = 2;
        break;
      }
      Job job;
      std::memcpy(&job.position, buf.data(), 8);
      std::memcpy(&job.attempt, buf.data() + 8, 4);
      if (!job.fault.ParseFromArray(buf.data() + 12, static_cast<int>(len - 12))) {
        rc = 2;
        break;
      }
      if (hook.set && hook.position == job.position && (!hook.once || job.attempt == 1)) std::abort();
      pb::ExperimentResult r = session.run_experiment(*rig, job.position, job.fault);
      r.set_attempts(job.attempt);
      if (!write_frame(out_fd, r.SerializeAsString())) break;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "faultline: worker %d: %s\n", getpid(), e.what());
    rc = 3;
  }
  if (const char* v = std::getenv("FAULTLINE_CAMPAIGN_STATS"); v && *v == '1') {
    const Session::Timing& t = session.timing();
    const double n = t.experiments ? static_cast<double>(t.experiments) : 1.0;
    std::fprintf(stderr,
                 "worker %d: %llu experiments, reset (checkpoint restore) %.3f ms and %.1f pages per experiment, "
                 "whole experiment %.3f ms\n",
                 getpid(), (unsigned long long)t.experiments, 1e3 * t.restore_seconds / n, t.restored_pages / n,
                 1e3 * t.run_seconds / n);
  }
  std::fflush(stderr);
  _exit(rc);
}

// Jobs queued in one worker's pipe: the first is running, the next waits so
// the worker never idles while the parent stores a result.
constexpr size_t kJobsPerWorker = 2;

struct Worker {
  pid_t pid = -1;
  int to = -1;    // parent writes jobs
  int from = -1;  // parent reads results
  std::deque<Job> inflight;
  std::string buf;
};

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended";
}

}  // namespace

Progress::Progress(uint64_t total, std::map<pb::Outcome, uint64_t> already_done, bool enabled)
    : total_(total), counts_(std::move(already_done)), enabled_(enabled), tty_(isatty(2)), start_(now_seconds()) {
  for (auto& [o, n] : counts_) done_ += n;
}

void Progress::add(pb::Outcome o) {
  counts_[o]++;
  done_++;
  done_now_++;
}

double Progress::rate() const {
  double dt = now_seconds() - start_;
  return dt > 0 ? static_cast<double>(done_now_) / dt : 0;
}

void Progress::update(bool force) {
  if (!enabled_) return;
  double now = now_seconds();
  if (!force && now - last_print_ < (tty_ ? 0.2 : 5.0)) return;
  last_print_ = now;
  double r = rate();
  std::string line = std::to_string(done_) + "/" + std::to_string(total_);
  char tmp[96];
  std::snprintf(tmp, sizeof tmp, " (%.1f%%)  %.1f exp/s", total_ ? 100.0 * done_ / total_ : 100.0, r);
  line += tmp;
  if (r > 0 && done_ < total_) {
    std::snprintf(tmp, sizeof tmp, "  ETA %.0fs", (total_ - done_) / r);
    line += tmp;
  }
  for (auto& [o, n] : counts_) line += std::string("  ") + outcome_label(o) + " " + std::to_string(n);
  if (tty_)
    std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
  else
    std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (!enabled_) return;
  update(true);
  if (tty_) std::fputc('\n', stderr);
}

void run_in_workers(const Session& session, std::vector<Job> jobs, unsigned workers, const ResultSink& sink,
                    Progress* progress, const std::function<void()>& idle) {
  if (jobs.empty()) return;
  if (workers == 0) workers = 1;
  if (workers > jobs.size()) workers = static_cast<unsigned>(jobs.size());
  std::deque<Job> queue(std::make_move_iterator(jobs.begin()), std::make_move_iterator(jobs.end()));
  size_t remaining = queue.size();
  std::vector<Worker> pool(workers);
  const pid_t parent = getpid();

  // A dead worker must show up as EOF/EPIPE, not kill the parent.
  struct sigaction ignore {}, old_pipe {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old_pipe);

  auto spawn = [&](Worker& w) {
    int down[2], up[2];
    if (pipe2(down, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + strerror(errno));
    if (pipe2(up, O_CLOEXEC) != 0) {
      close(down[0]);
      close(down[1]);
      throw std::runtime_error(std::string("pipe: ") + strerror(errno));
    }
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + strerror(errno));
    if (pid == 0) {
      // The worker must never outlive the runner (a SIGKILLed runner cannot
      // clean up).
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(4);
      signal(SIGPIPE, SIG_DFL);
      // A simulator crash is recorded and retried; a core file per crash
      // would only fill the disk.
      struct rlimit no_core {0, 0};
      setrlimit(RLIMIT_CORE, &no_core);
      for (Worker& o : pool) {
        if (o.to >= 0) close(o.to);
        if (o.from >= 0) close(o.from);
      }
      close(down[1]);
      close(up[0]);
      worker_main(session, down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    w = Worker{};
    w.pid = pid;
    w.to = down[1];
    w.from = up[0];
  };

  auto reap = [&](Worker& w) -> std::string {
    if (w.to >= 0) close(w.to);
    if (w.from >= 0) close(w.from);
    w.to = w.from = -1;
    int status = 0;
    std::string how = "ended";
    if (w.pid > 0) {
      while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
      }
      how = describe_status(status);
    }
    w.pid = -1;
    return how;
  };

  auto deliver = [&](pb::ExperimentResult&& r) {
    sink(r);
    if (progress) progress->add(r.outcome());
    remaining--;
  };

  auto worker_died = [&](Worker& w) {
    std::string how = reap(w);
    // Only the first job was running; the others go back unchanged.
    while (w.inflight.size() > 1) {
      queue.push_front(std::move(w.inflight.back()));
      w.inflight.pop_back();
    }
    if (!w.inflight.empty()) {
      Job job = std::move(w.inflight.front());
      w.inflight.clear();
      if (job.attempt < 2) {
        job.attempt++;
        queue.push_front(std::move(job));
      } else {
        pb::ExperimentResult r;
        r.set_id(job.position);
        *r.mutable_fault() = job.fault;
        r.set_seed(session.campaign().sampling().seed());
        r.set_outcome(pb::SIMULATOR_ERROR);
        r.set_end_reason("worker process " + how + " (twice)");
        r.set_attempts(job.attempt);
        deliver(std::move(r));
      }
    }
  };

  try {
    for (Worker& w : pool) spawn(w);
    double last_idle = now_seconds();
    while (remaining > 0) {
      for (Worker& w : pool) {
        while (w.inflight.size() < kJobsPerWorker && !queue.empty()) {
          if (w.pid < 0) spawn(w);
          w.inflight.push_back(std::move(queue.front()));
          queue.pop_front();
          if (!write_frame(w.to, encode_job(w.inflight.back()))) {
            worker_died(w);
            break;
          }
        }
      }
      std::vector<pollfd> fds;
      std::vector<Worker*> owners;
      for (Worker& w : pool)
        if (w.pid > 0) {
          fds.push_back({w.from, POLLIN, 0});
          owners.push_back(&w);
        }
      int n = poll(fds.data(), fds.size(), 500);
      if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + strerror(errno));
      for (size_t i = 0; n > 0 && i < fds.size(); i++) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Worker& w = *owners[i];
        char tmp[65536];
        ssize_t got = read(w.from, tmp, sizeof tmp);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
          worker_died(w);
          continue;
        }
        w.buf.append(tmp, static_cast<size_t>(got));
        while (w.buf.size() >= 4) {
          uint32_t len;
          std::memcpy(&len, w.buf.data(), 4);
          if (w.buf.size() < 4 + static_cast<size_t>(len)) break;
          pb::ExperimentResult r;
          bool ok = r.ParseFromArray(w.buf.data() + 4, static_cast<int>(len));
          w.buf.erase(0, 4 + static_cast<size_t>(len));
          if (!ok || w.inflight.empty() || r.id() != w.inflight.front().position) {
            // A garbled answer: treat it like a dead worker.
            kill(w.pid, SIGKILL);
            worker_died(w);
            break;
          }
          w.inflight.pop_front();
          deliver(std::move(r));
        }
      }
      double now = now_seconds();
      if (now - last_idle >= 0.5) {
        last_idle = now;
        if (idle) idle();
      }
      if (progress) progress->update();
    }
  } catch (...) {
    for (Worker& w : pool)
      if (w.pid > 0) {
        kill(w.pid, SIGKILL);
        reap(w);
      }
    sigaction(SIGPIPE, &old_pipe, nullptr);
    throw;
  }
  for (Worker& w : pool)
    if (w.pid > 0) reap(w);
  sigaction(SIGPIPE, &old_pipe, nullptr);
}

}  // namespace faultline::campaign
