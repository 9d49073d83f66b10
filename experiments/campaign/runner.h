// Runs experiments in forked worker processes.
//
// Design note: workers are forked after the golden run, so they inherit the
// session (campaign, golden output, checkpoints) without serialising it. Each
// builds its own Machine (guest RAM is a MAP_SHARED memfd and must not be
// shared). Parent and worker talk over two pipes with length-prefixed frames:
// the parent sends (planned position, attempt, pb::Fault), the worker answers
// with a serialised pb::ExperimentResult. A worker has at most one experiment
// in flight, so a worker that dies (a simulator crash, SIGKILL, OOM) loses
// only that one: the parent sees EOF on its pipe, reaps it, and retries the
// experiment once in a fresh worker; if that dies too the experiment is
// recorded as SIMULATOR_ERROR and the campaign goes on.
//
// Test hook: FAULTLINE_TEST_CRASH_EXPERIMENT=POS[:once] makes a worker abort()
// when it is given planned position POS (always, or only on the first attempt).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "experiments/campaign/session.h"

namespace faultline::campaign {

struct Job {
  uint64_t position = 0;  // planned position = experiment id
  pb::Fault fault;
  uint32_t attempt = 1;
};

// Progress on stderr: done/total, experiments/s, ETA and outcome counts;
// \r-updated on a terminal, one line every few seconds otherwise.
class Progress {
 public:
  Progress(uint64_t total, std::map<pb::Outcome, uint64_t> already_done, bool enabled = true);
  void add(pb::Outcome o);
  void update(bool force = false);
  void finish();
  double rate() const;

 private:
  uint64_t total_, done_ = 0, done_now_ = 0;
  std::map<pb::Outcome, uint64_t> counts_;
  bool enabled_, tty_;
  double start_, last_print_ = -1e9;
};

using ResultSink = std::function<void(const pb::ExperimentResult&)>;

// Runs every job in `workers` processes (at least 1), calling `sink` in this
// process for each result as it arrives. `idle` is called about every 0.5 s
// (e.g. to flush the result store). Throws std::runtime_error if workers
// cannot be started.
void run_in_workers(const Session& session, std::vector<Job> jobs, unsigned workers, const ResultSink& sink,
                    Progress* progress, const std::function<void()>& idle = {});

}  // namespace faultline::campaign
