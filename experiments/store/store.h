// The result store: one SQLite database per campaign.
//
// Design note: the database is the campaign's single source of truth. It
// keeps the campaign file's text (so `resume` and `replay` need nothing
// else), the golden run's output and end, the planned list of fault indices
// (the plan is drawn once; position in it = experiment id), and one row per
// finished experiment whose primary key is that position. Rows are inserted
// only complete, in one transaction per batch, with WAL journaling: a runner
// killed at any moment loses at most the uncommitted batch, never a committed
// row, and can never write a row twice. `resume` runs exactly the planned
// positions that have no row.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "result.pb.h"

struct sqlite3;
struct sqlite3_stmt;

namespace faultline::store {

// A database that is missing, unreadable, not a faultline campaign database,
// or of another format version.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CampaignRecord {
  std::string name;
  std::string file_text;     // the campaign file as loaded
  std::string file_path;     // absolute path it was loaded from
  uint64_t seed = 0;
  uint64_t planned = 0;
  std::string created;       // UTC, ISO 8601
  uint64_t samples_override = 0;  // --samples, 0 = none
  uint64_t fault_space_size = 0;
  std::string golden_output;
  std::string golden_digest;
  uint64_t golden_end = 0;   // ticks
  uint32_t golden_status = 0;
  std::string golden_end_reason;
};

struct Row {
  pb::ExperimentResult result;
  uint64_t fault_index = 0;
};

class Store {
 public:
  // Creates a new database at `path` with the campaign and its plan (fault
  // index per planned position), in one transaction. Throws StoreError if
  // `path` already exists.
  static Store create(const std::filesystem::path& path, const CampaignRecord& campaign,
                      const std::vector<uint64_t>& plan);
  // Opens an existing campaign database. Throws StoreError.
  static Store open(const std::filesystem::path& path);

  Store(Store&& o) noexcept;
  Store& operator=(Store&&) = delete;
  ~Store();

  const std::filesystem::path& path() const { return path_; }
  CampaignRecord campaign() const;
  std::vector<uint64_t> plan() const;
  // Planned positions that have a row.
  std::vector<uint64_t> done_positions() const;
  uint64_t row_count() const;
  std::map<pb::Outcome, uint64_t> outcome_counts() const;
  std::optional<Row> row(uint64_t id) const;
  // All rows in id order (calls `fn` for each; no buffering).
  void for_each_row(const std::function<void(const Row&)>& fn) const;

  // Buffers a finished experiment; commits when 16 are buffered or 0.5 s
  // passed since the last commit.
  void add(const pb::ExperimentResult& r, uint64_t fault_index);
  // Commits the buffered rows in one transaction.
  void flush();
  // Commits if the batch is due by time.
  void flush_if_due();

 private:
  Store(sqlite3* db, std::filesystem::path path);
  void exec(const char* sql) const;
  [[noreturn]] void fail(const std::string& what) const;

  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  std::vector<Row> pending_;
  double last_flush_ = 0;
};

// The fault as one-line protobuf text.
std::string fault_text(const pb::Fault& f);

}  // namespace faultline::store
