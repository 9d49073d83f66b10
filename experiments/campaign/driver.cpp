#include "experiments/campaign/driver.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "experiments/campaign/runner.h"
#include "faults/fault_space.h"

namespace faultline::campaign {

pb::Campaign effective_campaign(const pb::Campaign& c, uint64_t samples_override) {
  pb::Campaign e = c;
  if (samples_override) e.mutable_sampling()->set_samples(samples_override);
  return e;
}

std::unique_ptr<Session> start_session(const experiments::LoadedCampaign& lc, uint64_t samples_override) {
  auto s = std::make_unique<Session>(effective_campaign(lc.campaign, samples_override), lc.kernel_path);
  s->run_golden();
  return s;
}

store::Store create_store(const std::filesystem::path& db_path, const experiments::LoadedCampaign& lc,
                          const Session& s, uint64_t samples_override) {
  std::vector<uint64_t> plan = s.fault_space().plan(s.campaign().sampling());
  store::CampaignRecord rec;
  rec.name = s.campaign().name();
  rec.file_text = lc.text;
  std::error_code ec;
  rec.file_path = std::filesystem::absolute(lc.file, ec).string();
  rec.seed = s.campaign().sampling().seed();
  rec.samples_override = samples_override;
  rec.fault_space_size = s.fault_space().size();
  rec.golden_output = s.golden().output;
  rec.golden_digest = s.golden().digest;
  rec.golden_end = s.golden().end_ticks;
  rec.golden_status = s.golden().exit_status;
  rec.golden_end_reason = s.golden().end_reason;
  return store::Store::create(db_path, rec, plan);
}

std::unique_ptr<Session> session_for_store(const store::Store& db, const experiments::LoaderVars& vars) {
  store::CampaignRecord rec = db.campaign();
  experiments::LoadedCampaign lc = experiments::load_campaign_text(rec.file_text, rec.file_path, vars);
  auto s = start_session(lc, rec.samples_override);
  const GoldenRun& g = s->golden();
  std::string why;
  if (g.digest != rec.golden_digest) why = "console output differs (digest " + g.digest + ", stored " + rec.golden_digest + ")";
  else if (g.end_ticks != rec.golden_end)
    why = "it ends at instruction " + std::to_string(g.end_ticks) + ", stored " + std::to_string(rec.golden_end);
  else if (g.exit_status != rec.golden_status)
    why = "exit status " + std::to_string(g.exit_status) + ", stored " + std::to_string(rec.golden_status);
  else if (s->fault_space().size() != rec.fault_space_size)
    why = "the fault space has " + std::to_string(s->fault_space().size()) + " faults, stored " +
          std::to_string(rec.fault_space_size);
  if (!why.empty())
    throw GoldenMismatch(db.path().string() + ": the golden run does not reproduce the stored one: " + why +
                         " (kernel " + lc.kernel_path + " or the simulator changed); refusing to continue");
  return s;
}

RunSummary run_pending(const Session& s, store::Store& db, unsigned workers, bool progress) {
  auto t0 = std::chrono::steady_clock::now();
  const std::vector<uint64_t> plan = db.plan();
  std::vector<uint64_t> done_list = db.done_positions();
  std::set<uint64_t> done(done_list.begin(), done_list.end());
  RunSummary sum;
  sum.planned = plan.size();
  sum.already_done = done.size();

  // Experiments sharing a checkpoint run back to back: restoring the
  // checkpoint a worker restored last copies only the dirtied pages.
  std::vector<std::pair<size_t, Job>> order;
  for (uint64_t pos = 0; pos < plan.size(); pos++) {
    if (done.count(pos)) continue;
    Job j;
    j.position = pos;
    j.fault = s.fault_space().at(plan[pos]);
    order.emplace_back(s.checkpoint_for(j.fault), std::move(j));
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Job> jobs;
  jobs.reserve(order.size());
  for (auto& [cp, j] : order) jobs.push_back(std::move(j));
  sum.ran = jobs.size();

  Progress prog(plan.size(), db.outcome_counts(), progress);
  run_in_workers(
      s, std::move(jobs), workers, [&](const pb::ExperimentResult& r) { db.add(r, plan.at(r.id())); }, &prog,
      [&] { db.flush_if_due(); });
  db.flush();
  prog.finish();
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace faultline::campaign
