#include "experiments/store/store.h"

#include <sqlite3.h>

#include <chrono>
#include <ctime>

#include <google/protobuf/text_format.h>

namespace faultline::store {

namespace {

constexpr int kFormatVersion = 1;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
      throw StoreError(std::string("database error: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  void bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void bind(int i, uint64_t v) { sqlite3_bind_int64(s_, i, static_cast<int64_t>(v)); }
  void bind(int i, uint32_t v) { sqlite3_bind_int64(s_, i, v); }
  void bind(int i, double v) { sqlite3_bind_double(s_, i, v); }
  void bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind_blob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(std::string("database error: ") + sqlite3_errmsg(db_));
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
  uint64_t u64(int c) const { return static_cast<uint64_t>(sqlite3_column_int64(s_, c)); }
  std::string text(int c) const {
    const void* p = sqlite3_column_blob(s_, c);
    int n = sqlite3_column_bytes(s_, c);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

const char* kSchema = R"sql(
CREATE TABLE campaign (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  format_version INTEGER NOT NULL,
  name TEXT NOT NULL,
  file_text TEXT NOT NULL,
  file_path TEXT NOT NULL,
  seed INTEGER NOT NULL,
  planned INTEGER NOT NULL,
  created TEXT NOT NULL,
  samples_override INTEGER NOT NULL,
  fault_space_size INTEGER NOT NULL,
  golden_output BLOB NOT NULL,
  golden_digest TEXT NOT NULL,
  golden_end INTEGER NOT NULL,
  golden_status INTEGER NOT NULL,
  golden_end_reason TEXT NOT NULL
);
CREATE TABLE plan (
  idx INTEGER PRIMARY KEY,
  fault_index INTEGER NOT NULL
);
CREATE TABLE experiments (
  id INTEGER PRIMARY KEY,
  fault_index INTEGER NOT NULL,
  fault_group TEXT NOT NULL,
  fault_text TEXT NOT NULL,
  trigger_instruction INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  end_instruction INTEGER NOT NULL,
  exit_status INTEGER NOT NULL,
  end_reason TEXT NOT NULL,
  output_digest TEXT NOT NULL,
  diff_summary TEXT NOT NULL,
  wall_seconds REAL NOT NULL,
  seed INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  result_pb BLOB NOT NULL
);
)sql";

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

sqlite3* open_db(const std::filesystem::path& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw StoreError(path.string() + ": cannot open database: " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

}  // namespace

std::string fault_text(const pb::Fault& f) {
  google::protobuf::TextFormat::Printer p;
  p.SetSingleLineMode(true);
  std::string s;
  p.PrintToString(f, &s);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

Store::Store(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)), last_flush_(now_seconds()) {}

Store::Store(Store&& o) noexcept
    : db_(o.db_), path_(std::move(o.path_)), pending_(std::move(o.pending_)), last_flush_(o.last_flush_) {
  o.db_ = nullptr;
}

Store::~Store() {
  if (!db_) return;
  try {
    flush();
  } catch (...) {
  }
  sqlite3_close(db_);
}

void Store::fail(const std::string& what) const {
  throw StoreError(path_.string() + ": " + what + ": " + sqlite3_errmsg(db_));
}

void Store::exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    throw StoreError(path_.string() + ": database error: " + msg);
  }
}

Store Store::create(const std::filesystem::path& path, const CampaignRecord& c, const std::vector<uint64_t>& plan) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    throw StoreError(path.string() + ": already exists (use `faultline campaign resume " + path.string() +
                     "` to continue it, or remove it)");
  // Built under a temporary name and renamed when complete, so a database
  // at `path` always has its campaign record and plan.
  std::filesystem::path tmp = path;
  tmp += ".creating";
  std::filesystem::remove(tmp, ec);
  {
    Store s(open_db(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE), tmp);
    s.exec("BEGIN IMMEDIATE");
    s.exec(kSchema);
    {
      Stmt st(s.db_,
              "INSERT INTO campaign (id, format_version, name, file_text, file_path, seed, planned, created, "
              "samples_override, fault_space_size, golden_output, golden_digest, golden_end, golden_status, "
              "golden_end_reason) VALUES (1,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      st.bind(1, static_cast<int64_t>(kFormatVersion));
      st.bind(2, c.name);
      st.bind(3, c.file_text);
      st.bind(4, c.file_path);
      st.bind(5, c.seed);
      st.bind(6, static_cast<uint64_t>(plan.size()));
      st.bind(7, c.created.empty() ? utc_now() : c.created);
      st.bind(8, c.samples_override);
      st.bind(9, c.fault_space_size);
      st.bind_blob(10, c.golden_output);
      st.bind(11, c.golden_digest);
      st.bind(12, c.golden_end);
      st.bind(13, c.golden_status);
      st.bind(14, c.golden_end_reason);
      st.step();
    }
    {
      Stmt st(s.db_, "INSERT INTO plan (idx, fault_index) VALUES (?, ?)");
      for (size_t i = 0; i < plan.size(); i++) {
        st.bind(1, static_cast<uint64_t>(i));
        st.bind(2, plan[i]);
        st.step();
        st.reset();
      }
    }
    s.exec("COMMIT");
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw StoreError(path.string() + ": cannot create: " + ec.message());
  return open(path);
}

Store Store::open(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw StoreError(path.string() + ": no such database file");
  Store s(open_db(path, SQLITE_OPEN_READWRITE), path);
  try {
    Stmt st(s.db_, "SELECT format_version FROM campaign WHERE id = 1");
    if (!st.step()) throw StoreError("no campaign record");
    if (st.i64(0) != kFormatVersion)
      throw StoreError("format version " + std::to_string(st.i64(0)) + ", this faultline reads version " +
                       std::to_string(kFormatVersion));
  } catch (const StoreError& e) {
    throw StoreError(path.string() + ": not a faultline campaign database (" + e.what() + ")");
  }
  s.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  return s;
}

CampaignRecord Store::campaign() const {
  Stmt st(db_,
          "SELECT name, file_text, file_path, seed, planned, created, samples_override, fault_space_size, "
          "golden_output, golden_digest, golden_end, golden_status, golden_end_reason FROM campaign WHERE id = 1");
  if (!st.step()) throw StoreError(path_.string() + ": no campaign record");
  CampaignRecord c;
  c.name = st.text(0);
  c.file_text = st.text(1);
  c.file_path = st.text(2);
  c.seed = st.u64(3);
  c.planned = st.u64(4);
  c.created = st.text(5);
  c.samples_override = st.u64(6);
  c.fault_space_size = st.u64(7);
  c.golden_output = st.text(8);
  c.golden_digest = st.text(9);
  c.golden_end = st.u64(10);
  c.golden_status = static_cast<uint32_t>(st.u64(11));
  c.golden_end_reason = st.text(12);
  return c;
}

std::vector<uint64_t> Store::plan() const {
  std::vector<uint64_t> out;
  Stmt st(db_, "SELECT idx, fault_index FROM plan ORDER BY idx");
  while (st.step()) {
    if (st.u64(0) != out.size()) throw StoreError(path_.string() + ": plan has gaps");
    out.push_back(st.u64(1));
  }
  return out;
}

std::vector<uint64_t> Store::done_positions() const {
  std::vector<uint64_t> out;
  Stmt st(db_, "SELECT id FROM experiments ORDER BY id");
  while (st.step()) out.push_back(st.u64(0));
  return out;
}

uint64_t Store::row_count() const {
  Stmt st(db_, "SELECT COUNT(*) FROM experiments");
  st.step();
  return st.u64(0);
}

std::map<pb::Outcome, uint64_t> Store::outcome_counts() const {
  std::map<pb::Outcome, uint64_t> out;
  Stmt st(db_, "SELECT outcome, COUNT(*) FROM experiments GROUP BY outcome");
  while (st.step()) {
    pb::Outcome o = pb::OUTCOME_UNSPECIFIED;
    pb::Outcome_Parse(st.text(0), &o);
    out[o] += st.u64(1);
  }
  return out;
}

static Row row_from(const std::string& blob, uint64_t fault_index, const std::filesystem::path& path) {
  Row r;
  if (!r.result.ParseFromString(blob)) throw StoreError(path.string() + ": corrupt result record");
  r.fault_index = fault_index;
  return r;
}

std::optional<Row> Store::row(uint64_t id) const {
  Stmt st(db_, "SELECT result_pb, fault_index FROM experiments WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return row_from(st.text(0), st.u64(1), path_);
}

void Store::for_each_row(const std::function<void(const Row&)>& fn) const {
  Stmt st(db_, "SELECT result_pb, fault_index FROM experiments ORDER BY id");
  while (st.step()) fn(row_from(st.text(0), st.u64(1), path_));
}

void Store::add(const pb::ExperimentResult& r, uint64_t fault_index) {
  pending_.push_back({r, fault_index});
  if (pending_.size() >= 16) flush();
  else flush_if_due();
}

void Store::flush_if_due() {
  if (!pending_.empty() && now_seconds() - last_flush_ >= 0.5) flush();
}

void Store::flush() {
  last_flush_ = now_seconds();
  if (pending_.empty()) return;
  exec("BEGIN IMMEDIATE");
  try {
    Stmt st(db_,
            "INSERT INTO experiments (id, fault_index, fault_group, fault_text, trigger_instruction, outcome, "
            "end_instruction, exit_status, end_reason, output_digest, diff_summary, wall_seconds, seed, attempts, "
            "result_pb) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const Row& row : pending_) {
      const pb::ExperimentResult& r = row.result;
      st.bind(1, r.id());
      st.bind(2, row.fault_index);
      st.bind(3, r.fault().group());
      st.bind(4, fault_text(r.fault()));
      st.bind(5, r.trigger_instruction());
      st.bind(6, pb::Outcome_Name(r.outcome()));
      st.bind(7, r.end_instruction());
      st.bind(8, r.exit_status());
      st.bind(9, r.end_reason());
      st.bind(10, r.output_digest());
      st.bind(11, r.diff_summary());
      st.bind(12, r.wall_seconds());
      st.bind(13, r.seed());
      st.bind(14, r.attempts());
      st.bind_blob(15, r.SerializeAsString());
      st.step();
      st.reset();
    }
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
  exec("COMMIT");
  pending_.clear();
}

}  // namespace faultline::store
