// `faultline campaign run|resume`, `faultline export`, `faultline report`,
// `faultline replay`: fault-injection campaigns and their result databases.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "experiments/campaign/driver.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/exit_codes.h"
#include "experiments/report/export.h"
#include "experiments/report/stats.h"
#include "faults/fault_space.h"

namespace faultline::cli {

namespace {

experiments::LoaderVars loader_vars() {
  // The loader lets the environment variable of the same name win.
  return {{"FAULTLINE_GUEST_DIR", FAULTLINE_GUEST_DIR}};
}

unsigned default_workers() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

// Runs `body`, mapping the campaign errors to their exit statuses.
template <typename F>
int guarded(F&& body) {
  try {
    return body();
  } catch (const experiments::CampaignError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return exit_code::kBadInput;
  } catch (const store::StoreError& e) {
    std::fprintf(stderr, "faultline: error: %s\n", e.what());
    return exit_code::kBadDatabase;
  } catch (const campaign::GoldenRunError& e) {
    std::fprintf(stderr, "faultline: error: %s\n", e.what());
    return exit_code::kBadInput;
  } catch (const campaign::GoldenMismatch& e) {
    std::fprintf(stderr, "faultline: error: %s\n", e.what());
    return exit_code::kGoldenMismatch;
  }
}

void print_golden(campaign::Session& s) {
  const campaign::GoldenRun& g = s.golden();
  std::fprintf(stderr, "golden run: %s (status %u) after %llu instructions, %zu checkpoints, %.2f s\n",
               g.end_reason.c_str(), g.exit_status, (unsigned long long)g.end_ticks, s.checkpoints().size(),
               g.wall_seconds);
  if (g.outcome != RunOutcome::Exited && g.end_reason != "end pattern" && g.end_reason != "script end")
    std::fprintf(stderr,
                 "faultline: warning: the golden run did not end by the guest's exit or an end pattern (%s): "
                 "check end.max_instructions and end.end_patterns\n",
                 g.end_reason.c_str());
  // When each script step began: what trigger ranges of a scripted campaign
  // are chosen from.
  for (size_t i = 0; i < g.step_ticks.size(); i++)
    std::fprintf(stderr, "  script[%zu] began at instruction tick %llu (%.6f s)\n", i,
                 (unsigned long long)g.step_ticks[i], s.golden_rig().machine->clock().ticks_to_ns(g.step_ticks[i]) / 1e9);
}

int finish(const campaign::RunSummary& sum, const store::Store& db) {
  std::fprintf(stderr, "%llu experiments run in %.1f s (%.1f experiments/s); %llu of %llu planned in %s\n",
               (unsigned long long)sum.ran, sum.seconds, sum.seconds > 0 ? sum.ran / sum.seconds : 0.0,
               (unsigned long long)db.row_count(), (unsigned long long)sum.planned, db.path().c_str());
  return db.row_count() == sum.planned ? 0 : exit_code::kInternal;
}

struct RunOptions {
  std::string file;
  std::string db;
  unsigned workers = 0;
  uint64_t samples = 0;
  bool quiet = false;
};

int do_run(const RunOptions& o) {
  return guarded([&] {
    experiments::LoadedCampaign lc = experiments::load_campaign(o.file, loader_vars());
    for (const auto& w : lc.warnings) std::fprintf(stderr, "%s\n", w.format("warning").c_str());
    std::filesystem::path db_path = o.db.empty() ? std::filesystem::path(lc.campaign.name() + ".db") : std::filesystem::path(o.db);
    if (std::filesystem::exists(db_path)) {
      std::fprintf(stderr,
                   "faultline: error: %s already exists (use `faultline campaign resume %s` to continue it, "
                   "or remove it)\n",
                   db_path.c_str(), db_path.c_str());
      return exit_code::kDatabaseExists;
    }
    auto s = campaign::start_session(lc, o.samples);
    print_golden(*s);
    store::Store db = campaign::create_store(db_path, lc, *s, o.samples);
    std::fprintf(stderr, "fault space: %llu faults; %llu experiments planned\n",
                 (unsigned long long)s->fault_space().size(), (unsigned long long)db.plan().size());
    auto sum = campaign::run_pending(*s, db, o.workers ? o.workers : default_workers(), !o.quiet);
    return finish(sum, db);
  });
}

struct ResumeOptions {
  std::string db;
  unsigned workers = 0;
  bool quiet = false;
};

int do_resume(const ResumeOptions& o) {
  return guarded([&] {
    store::Store db = store::Store::open(o.db);
    auto s = campaign::session_for_store(db, loader_vars());
    print_golden(*s);
    auto sum = campaign::run_pending(*s, db, o.workers ? o.workers : default_workers(), !o.quiet);
    return finish(sum, db);
  });
}

struct ExportOptions {
  std::string db;
  std::string format = "csv";
  std::string output;
};

int do_export(const ExportOptions& o) {
  return guarded([&] {
    store::Store db = store::Store::open(o.db);
    report::ExportFormat f = o.format == "csv"     ? report::ExportFormat::Csv
                             : o.format == "jsonl" ? report::ExportFormat::Jsonl
                                                   : report::ExportFormat::Pb;
    uint64_t n;
    if (o.output.empty() || o.output == "-") {
      n = report::export_results(db, f, std::cout);
    } else {
      std::ofstream out(o.output, std::ios::binary | std::ios::trunc);
      if (!out) {
        std::fprintf(stderr, "faultline: error: %s: cannot open for writing\n", o.output.c_str());
        return exit_code::kBadInput;
      }
      n = report::export_results(db, f, out);
      std::fprintf(stderr, "%llu experiments written to %s\n", (unsigned long long)n, o.output.c_str());
    }
    return 0;
  });
}

report::Summary summarize(const store::Store& db) {
  store::CampaignRecord rec = db.campaign();
  report::Summary base;
  base.name = rec.name;
  base.created = rec.created;
  base.planned = rec.planned;
  base.golden_end = rec.golden_end;
  base.golden_end_reason = rec.golden_end_reason;
  base.golden_status = rec.golden_status;
  report::SummaryBuilder b(std::move(base));
  db.for_each_row([&](const store::Row& r) { b.add(r.result); });
  return b.finish();
}

struct ReportOptions {
  std::string db;
  std::string html;
};

int do_report(const ReportOptions& o) {
  return guarded([&] {
    store::Store db = store::Store::open(o.db);
    report::Summary s = summarize(db);
    std::fputs(report::text_report(s).c_str(), stdout);
    if (!o.html.empty()) {
      std::ofstream out(o.html, std::ios::trunc);
      out << report::html_report(s);
      out.close();
      if (!out) {
        std::fprintf(stderr, "faultline: error: %s: cannot write the HTML report\n", o.html.c_str());
        return exit_code::kBadInput;
      }
      std::fprintf(stderr, "HTML report written to %s\n", o.html.c_str());
    }
    return 0;
  });
}

struct ReplayOptions {
  std::string db;
  uint64_t id = 0;
};

int do_replay(const ReplayOptions& o) {
  return guarded([&] {
    store::Store db = store::Store::open(o.db);
    std::optional<store::Row> row = db.row(o.id);
    if (!row) {
      std::fprintf(stderr, "faultline: error: %s: no experiment with id %llu (%llu planned, %llu done)\n",
                   o.db.c_str(), (unsigned long long)o.id, (unsigned long long)db.campaign().planned,
                   (unsigned long long)db.row_count());
      return exit_code::kUnknownExperiment;
    }
    auto s = campaign::session_for_store(db, loader_vars());
    const pb::ExperimentResult& stored = row->result;
    pb::ExperimentResult now = s->run_experiment(s->golden_rig(), o.id, stored.fault());
    std::printf("experiment %llu: %s\n", (unsigned long long)o.id, store::fault_text(stored.fault()).c_str());
    std::printf("  stored:   %-16s digest %s  end %llu  (%s)\n", pb::Outcome_Name(stored.outcome()).c_str(),
                stored.output_digest().c_str(), (unsigned long long)stored.end_instruction(),
                stored.end_reason().c_str());
    std::printf("  replayed: %-16s digest %s  end %llu  (%s)\n", pb::Outcome_Name(now.outcome()).c_str(),
                now.output_digest().c_str(), (unsigned long long)now.end_instruction(), now.end_reason().c_str());
    if (!now.diff_summary().empty()) std::printf("  diff: %s\n", now.diff_summary().c_str());
    const bool same = now.outcome() == stored.outcome() && now.output_digest() == stored.output_digest();
    std::printf("%s\n", same ? "reproduced" : "NOT reproduced");
    return same ? 0 : exit_code::kNotReproduced;
  });
}

}  // namespace

Action add_campaign_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("campaign", "Run fault-injection campaigns");
  sub->require_subcommand(1);
  auto ro = std::make_shared<RunOptions>();
  CLI::App* run = sub->add_subcommand("run", "Golden run, then the planned experiments into a result database");
  run->add_option("file", ro->file, "Campaign file (.textproto)")->required()->check(CLI::ExistingFile);
  run->add_option("--workers", ro->workers, "Worker processes (default: number of CPUs)")->check(CLI::Range(1, 256));
  run->add_option("--db", ro->db, "Result database (default: <campaign name>.db in the current directory)");
  run->add_option("--samples", ro->samples, "Draw this many experiments instead of the file's sampling")
      ->check(CLI::PositiveNumber);
  run->add_flag("--quiet", ro->quiet, "No progress line");
  auto so = std::make_shared<ResumeOptions>();
  CLI::App* resume = sub->add_subcommand("resume", "Run the planned experiments a database has no result for");
  resume->add_option("db", so->db, "Result database")->required();
  resume->add_option("--workers", so->workers, "Worker processes (default: number of CPUs)")->check(CLI::Range(1, 256));
  resume->add_flag("--quiet", so->quiet, "No progress line");
  return [run, resume, ro, so] {
    if (run->parsed()) return do_run(*ro);
    if (resume->parsed()) return do_resume(*so);
    return exit_code::kUsage;
  };
}

Action add_export_command(CLI::App& app) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* sub = app.add_subcommand("export", "Export a campaign's results");
  sub->add_option("db", o->db, "Result database")->required();
  sub->add_option("--format", o->format, "csv, jsonl or pb (length-delimited pb::ExperimentResult)")
      ->check(CLI::IsMember({"csv", "jsonl", "pb"}));
  sub->add_option("--output,-o", o->output, "Output file (default: stdout)");
  return [o] { return do_export(*o); };
}

Action add_report_command(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* sub = app.add_subcommand("report", "Outcome rates with 95% confidence intervals");
  sub->add_option("db", o->db, "Result database")->required();
  sub->add_option("--html", o->html, "Also write a self-contained HTML report with charts");
  return [o] { return do_report(*o); };
}

Action add_replay_command(CLI::App& app) {
  auto o = std::make_shared<ReplayOptions>();
  CLI::App* sub = app.add_subcommand("replay", "Re-run one experiment and compare it with its stored result");
  sub->add_option("db", o->db, "Result database")->required();
  sub->add_option("--experiment", o->id, "Experiment id (planned position)")->required();
  return [o] { return do_replay(*o); };
}

}  // namespace faultline::cli
