// Campaign driver: the steps `faultline campaign run/resume` and `replay`
// share, between loading a file, the session, the store and the workers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "experiments/campaign/session.h"
#include "experiments/loader/campaign_loader.h"
#include "experiments/store/store.h"

namespace faultline::campaign {

// The golden run of a stored campaign did not reproduce (the kernel or the
// simulator changed since the database was written).
class GoldenMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The campaign as it runs: `samples` > 0 overrides the file's sampling.
pb::Campaign effective_campaign(const pb::Campaign& c, uint64_t samples_override);

// Session for a freshly loaded campaign file; the golden run is done.
std::unique_ptr<Session> start_session(const experiments::LoadedCampaign& lc, uint64_t samples_override);

// Creates the result database for a session: draws the plan and stores the
// campaign file, golden run and plan.
store::Store create_store(const std::filesystem::path& db_path, const experiments::LoadedCampaign& lc,
                          const Session& s, uint64_t samples_override);

// Re-parses the campaign stored in `db` (relative paths against the stored
// file's directory), runs the golden run and checks it reproduces the stored
// one. Throws GoldenMismatch, experiments::CampaignError, StoreError.
std::unique_ptr<Session> session_for_store(const store::Store& db, const experiments::LoaderVars& vars);

struct RunSummary {
  uint64_t planned = 0;
  uint64_t already_done = 0;
  uint64_t ran = 0;
  double seconds = 0;
};
// Runs the planned experiments that have no row yet in `workers` processes.
RunSummary run_pending(const Session& s, store::Store& db, unsigned workers, bool progress);

}  // namespace faultline::campaign
