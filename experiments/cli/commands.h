#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace faultline::cli {

// Each command registers its subcommand and returns the action to run when
// that subcommand was chosen (returning the process exit status).
using Action = std::function<int()>;
Action add_run_command(CLI::App& app);
Action add_bench_command(CLI::App& app);
Action add_cpu_check_command(CLI::App& app);
Action add_campaign_command(CLI::App& app);
Action add_export_command(CLI::App& app);
Action add_report_command(CLI::App& app);
Action add_replay_command(CLI::App& app);

}  // namespace faultline::cli
