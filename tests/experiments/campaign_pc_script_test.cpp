// Integration tests of scripted campaigns and campaigns on the PC platform:
// script steps in the golden run, golden runs that do not fit their script,
// inject steps, and that every checkpoint (with its script position)
// continues exactly like the golden run — on multiboot guest kernels, and on
// the Linux guest when FAULTLINE_LINUX_GUEST_DIR is set.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "campaign_test_support.h"
#include "experiments/campaign/driver.h"
#include "faults/fault_space.h"

namespace faultline {
namespace {

using testing::TempDir;

experiments::LoadedCampaign load_text(const TempDir& dir, const std::string& text) {
  return experiments::load_campaign_text(text, dir / "c.textproto", testing::guest_vars());
}

// Every checkpoint (or those listed), restored into a fresh rig (as a
// worker does), runs the rest of the golden run — script included — to the
// same end and output.
void expect_checkpoints_reproduce(const campaign::Session& s, std::vector<size_t> which = {}) {
  auto rig = s.make_machine();
  if (which.empty())
    for (size_t k = 0; k < s.checkpoints().size(); ++k) which.push_back(k);
  for (size_t k : which) {
    SCOPED_TRACE("checkpoint " + std::to_string(k));
    campaign::RunEnd e = s.rerun_from(*rig, k);
    EXPECT_EQ(campaign::describe_end(e), s.golden().end_reason == "instruction limit" ? "timeout" : s.golden().end_reason);
    EXPECT_EQ(e.ticks, s.golden().end_ticks);
    EXPECT_EQ(e.exit_status, s.golden().exit_status);
    const std::string out = s.run_output(*rig);
    EXPECT_TRUE(out == s.golden().output) << campaign::diff_summary(s.golden().output, out, 0, 0);
  }
}

// The keyboard kernel on the PC platform: the script types a line on the
// PS/2 keyboard, expects the kernel's echo on the debug console, and ends.
const char* kKeyboard = R"(
name: "keyboard"
workload { multiboot { kernel: "${FAULTLINE_GUEST_DIR}/keyboard.elf" pc: true } }
script { wait_for { pattern: "waiting for input" timeout_ns: 100000000 } }
script { type_keys: "hello\n" }
script { expect { pattern: "typed: hello$" timeout_ns: 500000000 } }
script { end: true }
fault_space {
  name: "unused"
  target { memory { physical { start: 0x800000 end: 0x800100 } } }
  model { bit_flip {} }
  trigger { instructions { start: 0 end: 0 } }
}
sampling { samples: 6 seed: 5 }
checkpoints: 6
)";

TEST(CampaignEnginePc, KeyboardScriptOnMultibootPc) {
  TempDir dir;
  auto s = campaign::start_session(load_text(dir, kKeyboard), 0);
  const campaign::GoldenRun& g = s->golden();
  EXPECT_EQ(g.end_reason, "script end");
  // The run ends as soon as the expect matched: `$` matches at the end of
  // the output so far, before the kernel's newline.
  EXPECT_EQ(g.output, "keyboard: waiting for input\ntyped: hello");
  ASSERT_EQ(g.step_ticks.size(), 4u);
  EXPECT_EQ(g.step_ticks[1], g.step_ticks[2]);  // typing takes no virtual time
  EXPECT_GT(g.step_ticks[3], g.step_ticks[2]);  // the guest needs time to read the keys
  ASSERT_EQ(s->checkpoints().size(), 6u);
  expect_checkpoints_reproduce(*s);
  // Flips in RAM the kernel never reads are benign from any checkpoint.
  auto rig = s->make_machine();
  for (uint64_t i : s->fault_space().plan(s->campaign().sampling())) {
    pb::ExperimentResult r = s->run_experiment(*rig, i, s->fault_space().at(i));
    EXPECT_EQ(r.outcome(), pb::BENIGN) << r.DebugString();
  }
}

TEST(CampaignEnginePc, ExpectTimeoutInTheGoldenRunIsAnError) {
  TempDir dir;
  // Without Enter the kernel never echoes the line and keeps polling.
  std::string text = kKeyboard;
  text.replace(text.find("hello\\n"), 7, "bye");
  text.replace(text.find("typed: hello$"), 13, "typed: bye$");
  try {
    campaign::start_session(load_text(dir, text), 0);
    ADD_FAILURE() << "golden run accepted";
  } catch (const campaign::GoldenRunError& e) {
    EXPECT_NE(std::string(e.what()).find("script[2] expect \"typed: bye$\" on CONSOLE timed out after 500000000 ns"), std::string::npos)
        << e.what();
  }
}

// vgatext writes its message into the VGA text buffer, prints a line on the
// debug console and exits: the SCREEN wait matches when that line is out.
TEST(CampaignEnginePc, ScreenWaitOnMultibootPc) {
  TempDir dir;
  const std::string text = R"(
name: "screen"
workload { multiboot { kernel: "${FAULTLINE_GUEST_DIR}/vgatext.elf" pc: true } }
script { wait_for { pattern: "faultline VGA text check" source: SCREEN timeout_ns: 100000000 } }
fault_space {
  target { registers { names: "eax" } }
  model { bit_flip {} }
  trigger { instructions { start: 0 end: 0 } }
}
sampling { samples: 2 seed: 1 }
)";
  auto s = campaign::start_session(load_text(dir, text), 0);
  EXPECT_EQ(s->golden().end_reason, "exited");
  ASSERT_EQ(s->golden().step_ticks.size(), 1u);
  // A script on SCREEN puts the final screen into the compared output.
  const std::string& out = s->golden().output;
  EXPECT_EQ(out.find("vgatext: wrote the message at row 2, column 4\nPASS\n--- screen ---\n\n\n    faultline VGA text check\n"),
            0u)
      << out;
  expect_checkpoints_reproduce(*s);
  // Without the PC platform the screen is plain RAM: the loader refuses.
  std::string bare = text;
  bare.erase(bare.find(" pc: true"), 9);
  EXPECT_THROW(load_text(dir, bare), experiments::CampaignError);
  // A pattern that never shows ends the golden run while the step waits.
  std::string never = text;
  never.replace(never.find("faultline VGA text check"), 24, "no such text");
  try {
    campaign::start_session(load_text(dir, never), 0);
    ADD_FAILURE() << "golden run accepted";
  } catch (const campaign::GoldenRunError& e) {
    EXPECT_NE(std::string(e.what()).find("the run ended (exited) while script[0] wait_for \"no such text\" on "
                                         "SCREEN was waiting"),
              std::string::npos)
        << e.what();
  }
}

// An inject step on the bare machine: the sort kernel prints its digest
// after sorting, then checks the order itself (exit 2, "sort check
// failed"); the script injects right after the digest line, from the
// checkpoint taken right before the inject step.
TEST(CampaignEnginePc, InjectStepOnTheBareMachine) {
  TempDir dir;
  const std::string text = R"(
name: "inject"
workload { multiboot { kernel: "${FAULTLINE_GUEST_DIR}/sort.elf" } }
script { wait_for { pattern: "sorted digest=0x[0-9a-f]+\\n" timeout_ns: 100000000 } }
script { inject: true }
fault_space {
  name: "array"
  target { memory { symbol: "sort_array" width: 4 } }
  model { bit_flip {} }
}
sampling { samples: 24 seed: 9 }
classification { detected_patterns: "sort check failed" detected_exit_statuses: 2 }
)";
  experiments::LoadedCampaign lc = load_text(dir, text);
  auto s = campaign::start_session(lc, 0);
  const campaign::GoldenRun& g = s->golden();
  EXPECT_EQ(g.end_reason, "exited");
  EXPECT_EQ(g.inject_step, 1);
  ASSERT_EQ(s->checkpoints().size(), 2u);  // boot, and right before the inject step
  EXPECT_EQ(s->checkpoints()[1].machine.ticks, g.inject_ticks);
  EXPECT_EQ(s->checkpoints()[1].state.script.step, 1u);
  EXPECT_NE(s->checkpoints()[1].state.output.find("sorted digest=0x"), std::string::npos);
  expect_checkpoints_reproduce(*s);
  store::Store db = campaign::create_store(dir / "c.db", lc, *s, 0);
  campaign::run_pending(*s, db, 2, false);
  std::map<pb::Outcome, int> outcomes;
  db.for_each_row([&](const store::Row& r) {
    outcomes[r.result.outcome()]++;
    EXPECT_EQ(r.result.trigger_instruction(), g.inject_ticks);  // injected at the step
  });
  // A flipped bit in the sorted array after the digest: the order check
  // catches it unless the word stays between its neighbours. The digest
  // line is already out, so nothing else can differ.
  EXPECT_GT(outcomes[pb::DETECTED], 0);
  EXPECT_EQ(outcomes[pb::BENIGN] + outcomes[pb::DETECTED], 24);
}

// The Linux guest: a scripted campaign with instruction triggers; each of
// its checkpoints (taken in the middle of the script) must continue exactly
// like the golden run, in a fresh rig as in a worker process.
TEST(CampaignEnginePc, LinuxCheckpointsContinueTheScriptLikeTheGoldenRun) {
  const char* d = std::getenv("FAULTLINE_LINUX_GUEST_DIR");
  if (!d || !*d) GTEST_SKIP() << "FAULTLINE_LINUX_GUEST_DIR not set";
  experiments::LoadedCampaign lc = experiments::load_campaign(
      std::string(FAULTLINE_EXAMPLES_DIR) + "/linux_register_flips_checksum.textproto", testing::guest_vars());
  lc.campaign.set_checkpoints(8);
  auto s = campaign::start_session(lc, 0);
  const campaign::GoldenRun& g = s->golden();
  EXPECT_EQ(g.end_reason, "script end");
  EXPECT_EQ(g.exit_status, 0u);
  EXPECT_NE(g.output.find("checksum: crc32 0616b8a4 0616b8a4"), std::string::npos) << g.output;
  EXPECT_NE(g.output.find("workload checksum: ok"), std::string::npos);
  EXPECT_EQ(g.output.substr(g.output.size() - 21), "workload checksum: ok");  // ends at the match
  ASSERT_EQ(s->checkpoints().size(), 8u);
  // Checkpoints before and after the command was sent.
  EXPECT_EQ(s->checkpoints()[1].state.script.step, 0u);
  EXPECT_EQ(s->checkpoints()[7].state.script.step, 2u);  // 7/8 of the run: the workload runs
  // While waiting for the prompt, and while expecting the verdict (the
  // late ones keep the test short).
  expect_checkpoints_reproduce(*s, {5, 7});
}

}  // namespace
}  // namespace faultline
