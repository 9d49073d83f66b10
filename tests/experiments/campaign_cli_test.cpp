// Integration tests of the campaign commands through the faultline binary:
// SIGKILL in the middle of a campaign and resume, replay, exports, reports
// and the error exit statuses.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "campaign_test_support.h"
#include "experiments/cli/exit_codes.h"

namespace faultline {
namespace {

using testing::TempDir;

pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::fopen(log.c_str(), "w");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(FAULTLINE_BIN));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(FAULTLINE_BIN, argv.data());
    _exit(127);
  }
  return pid;
}

int wait_status(pid_t pid) {
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int run(const std::vector<std::string>& args, const TempDir& dir, std::string* output = nullptr) {
  const auto log = dir / "cmd.log";
  int rc = wait_status(spawn(args, log));
  if (output) {
    std::ifstream in(log);
    output->assign(std::istreambuf_iterator<char>(in), {});
  }
  return rc;
}

struct DbRow {
  uint64_t fault_index;
  std::string outcome, digest;
  int64_t end_instruction, trigger_instruction;
  bool operator==(const DbRow&) const = default;
};

// Reads the rows with plain SQLite (a second connection, as another tool would).
std::map<uint64_t, DbRow> read_rows(const std::filesystem::path& db_path, int64_t* distinct = nullptr) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::map<uint64_t, DbRow> rows;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT id, fault_index, outcome, output_digest, end_instruction, trigger_instruction "
                     "FROM experiments",
                     -1, &st, nullptr);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    DbRow r{static_cast<uint64_t>(sqlite3_column_int64(st, 1)),
            reinterpret_cast<const char*>(sqlite3_column_text(st, 2)),
            reinterpret_cast<const char*>(sqlite3_column_text(st, 3)), sqlite3_column_int64(st, 4),
            sqlite3_column_int64(st, 5)};
    rows.emplace(static_cast<uint64_t>(sqlite3_column_int64(st, 0)), r);
  }
  sqlite3_finalize(st);
  if (distinct) {
    sqlite3_prepare_v2(db, "SELECT COUNT(DISTINCT id), COUNT(*) FROM experiments", -1, &st, nullptr);
    if (st && sqlite3_step(st) == SQLITE_ROW)
      *distinct = sqlite3_column_int64(st, 0) == sqlite3_column_int64(st, 1) ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return rows;
}

int64_t row_count(const std::filesystem::path& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return 0;
  }
  int64_t n = 0;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM experiments", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

constexpr uint64_t kSamples = 600;

TEST(CampaignCli, KilledCampaignResumesWithoutLossOrDuplicates) {
  TempDir dir;
  const auto file = dir.write("checksum_flips.textproto", testing::checksum_campaign_text(kSamples));
  const auto killed_db = dir / "killed.db";
  pid_t pid = spawn({"campaign", "run", file.string(), "--db", killed_db.string(), "--workers", "1", "--quiet"},
                    dir / "killed.log");
  // Wait until a few batches are committed, then kill the runner outright.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int64_t seen = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(killed_db)) seen = row_count(killed_db);
    if (seen >= 40) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(seen, 40) << "the campaign did not get going";
  kill(pid, SIGKILL);
  EXPECT_EQ(wait_status(pid), 128 + SIGKILL);
  const auto committed = read_rows(killed_db);
  const int64_t before = static_cast<int64_t>(committed.size());
  ASSERT_LT(before, int64_t(kSamples)) << "the campaign finished before the kill; make it longer";
  ASSERT_GE(before, seen);

  std::string out;
  ASSERT_EQ(run({"campaign", "resume", killed_db.string(), "--workers", "2", "--quiet"}, dir, &out), 0) << out;
  ASSERT_EQ(run({"campaign", "run", file.string(), "--db", (dir / "whole.db").string(), "--workers", "2", "--quiet"},
                dir, &out),
            0)
      << out;
  int64_t distinct = 0;
  auto resumed = read_rows(killed_db, &distinct);
  auto whole = read_rows(dir / "whole.db");
  EXPECT_EQ(distinct, int64_t(kSamples));
  ASSERT_EQ(resumed.size(), kSamples);
  ASSERT_EQ(whole.size(), kSamples);
  for (auto& [id, r] : whole) EXPECT_TRUE(resumed.at(id) == r) << "experiment " << id;
  // What was committed before the kill is still there, unchanged.
  for (auto& [id, r] : committed) EXPECT_TRUE(resumed.at(id) == r) << "experiment " << id;

  // A second resume has nothing left to do.
  ASSERT_EQ(run({"campaign", "resume", killed_db.string(), "--quiet"}, dir, &out), 0) << out;
  EXPECT_NE(out.find("0 experiments run"), std::string::npos) << out;
  EXPECT_EQ(row_count(killed_db), int64_t(kSamples));
}

TEST(CampaignCli, ReplayReportExportAndErrors) {
  TempDir dir;
  const auto file = dir.write("checksum_flips.textproto", testing::checksum_campaign_text(20));
  const auto db = dir / "c.db";
  std::string out;
  ASSERT_EQ(run({"campaign", "run", file.string(), "--db", db.string(), "--workers", "2", "--quiet"}, dir, &out), 0)
      << out;
  // Running again into the same database is refused.
  EXPECT_EQ(run({"campaign", "run", file.string(), "--db", db.string()}, dir, &out), exit_code::kDatabaseExists);

  EXPECT_EQ(run({"replay", db.string(), "--experiment", "3"}, dir, &out), 0) << out;
  EXPECT_NE(out.find("reproduced"), std::string::npos) << out;
  EXPECT_EQ(run({"replay", db.string(), "--experiment", "20"}, dir, &out), exit_code::kUnknownExperiment) << out;
  EXPECT_NE(out.find("no experiment with id 20"), std::string::npos) << out;
  dir.write("junk.db", std::string(4096, 'x'));
  EXPECT_EQ(run({"replay", (dir / "junk.db").string(), "--experiment", "0"}, dir, &out), exit_code::kBadDatabase);
  EXPECT_EQ(run({"report", (dir / "missing.db").string()}, dir, &out), exit_code::kBadDatabase);

  const auto html = dir / "report.html";
  ASSERT_EQ(run({"report", db.string(), "--html", html.string()}, dir, &out), 0) << out;
  EXPECT_NE(out.find("95% CI"), std::string::npos) << out;
  EXPECT_NE(out.find("data_buffer"), std::string::npos) << out;
  std::ifstream h(html);
  std::string page((std::istreambuf_iterator<char>(h)), {});
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);  // self-contained, no scripts

  const auto csv = dir / "r.csv";
  ASSERT_EQ(run({"export", db.string(), "--format", "csv", "--output", csv.string()}, dir, &out), 0) << out;
  std::ifstream c(csv);
  std::string line;
  int lines = 0;
  std::getline(c, line);
  EXPECT_EQ(line.rfind("id,fault_index,group,", 0), 0u) << line;
  while (std::getline(c, line)) lines++;
  EXPECT_EQ(lines, 20);
  ASSERT_EQ(run({"export", db.string(), "--format", "jsonl", "--output", (dir / "r.jsonl").string()}, dir, &out), 0);
  ASSERT_EQ(run({"export", db.string(), "--format", "pb", "--output", (dir / "r.pb").string()}, dir, &out), 0);
  EXPECT_GT(std::filesystem::file_size(dir / "r.pb"), 20u * 20u);
}

// A scripted campaign on the PC platform through the CLI: the golden run
// prints when each step began; a script the golden run does not follow is
// a bad campaign file (65) naming the step, and no database is written.
TEST(CampaignCli, ScriptedPcCampaignAndAScriptThatDoesNotFit) {
  TempDir dir;
  const std::string head = R"(
name: "kbd"
workload { multiboot { kernel: "${FAULTLINE_GUEST_DIR}/keyboard.elf" pc: true } }
script { wait_for { pattern: "waiting for input" timeout_ns: 100000000 } }
script { type_keys: "abc\n" }
script { inject: true }
)";
  const std::string tail = R"(
fault_space { target { registers { names: "ecx" } } model { bit_flip {} } }
sampling { samples: 4 seed: 2 }
)";
  auto good = dir.write("good.textproto", head + "script { expect { pattern: \"typed: abc\" timeout_ns: 500000000 } }\n" + tail);
  std::string out;
  ASSERT_EQ(run({"campaign", "run", good.string(), "--db", (dir / "good.db").string(), "--workers", "2", "--quiet"},
                dir, &out),
            0)
      << out;
  EXPECT_NE(out.find("golden run: exited (status 0)"), std::string::npos) << out;
  EXPECT_NE(out.find("script[3] began at instruction tick"), std::string::npos) << out;
  EXPECT_NE(out.find("4 of 4 planned"), std::string::npos) << out;
  auto bad = dir.write("bad.textproto", head + "script { expect { pattern: \"typed: xyz\" timeout_ns: 500000000 } }\n" + tail);
  EXPECT_EQ(run({"campaign", "run", bad.string(), "--db", (dir / "bad.db").string(), "--quiet"}, dir, &out),
            exit_code::kBadInput)
      << out;
  EXPECT_NE(out.find("golden run: the run ended (exited) while script[3] expect \"typed: xyz\" on CONSOLE was waiting"),
            std::string::npos)
      << out;
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.db"));
}

}  // namespace
}  // namespace faultline
