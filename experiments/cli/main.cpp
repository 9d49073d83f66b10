// faultline command-line entry point: one binary, subcommands.
#include <cstdio>
#include <exception>

#include "experiments/cli/commands.h"
#include "experiments/cli/exit_codes.h"

int main(int argc, char** argv) {
  CLI::App app{"faultline: fault-injection PC simulator"};
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, faultline::cli::Action>> actions;
  auto remember = [&](faultline::cli::Action a) { actions.emplace_back(app.get_subcommands({}).back(), a); };
  remember(faultline::cli::add_run_command(app));
  remember(faultline::cli::add_bench_command(app));
  remember(faultline::cli::add_cpu_check_command(app));
  remember(faultline::cli::add_campaign_command(app));
  remember(faultline::cli::add_export_command(app));
  remember(faultline::cli::add_report_command(app));
  remember(faultline::cli::add_replay_command(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : faultline::exit_code::kUsage;
  }
  try {
    for (auto& [sub, action] : actions)
      if (sub->parsed()) return action();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "faultline: error: %s\n", e.what());
    return faultline::exit_code::kBadInput;
  }
  return faultline::exit_code::kUsage;
}
