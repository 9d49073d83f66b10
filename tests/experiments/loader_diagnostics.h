// Shared by the loader test files: the diagnostics loading a text gives,
// and a check of them against expected (line, column, message part).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "experiments/loader/campaign_loader.h"

namespace faultline::experiments::loader_test {

// The diagnostics of loading `text` as `file` (empty when it loads).
inline std::vector<Diagnostic> errors_of(const std::string& text, const std::string& file, const LoaderVars& vars) {
  try {
    load_campaign_text(text, file, vars);
  } catch (const CampaignError& e) {
    return e.diagnostics;
  }
  return {};
}

inline std::string dump(const std::vector<Diagnostic>& d) {
  std::string s;
  for (const Diagnostic& x : d) s += x.format() + "\n";
  return s;
}

struct Expect {
  int line, column;
  std::string substr;  // part of the message
};

// Exactly these diagnostics, in order, each naming `file`.
inline void expect_errors(const std::string& text, const std::string& file, const LoaderVars& vars,
                          const std::vector<Expect>& want) {
  std::vector<Diagnostic> got = errors_of(text, file, vars);
  ASSERT_EQ(got.size(), want.size()) << "got:\n" << dump(got) << "text:\n" << text;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].file, file);
    EXPECT_EQ(got[i].line, want[i].line) << dump(got);
    EXPECT_EQ(got[i].column, want[i].column) << dump(got);
    EXPECT_NE(got[i].message.find(want[i].substr), std::string::npos)
        << "message \"" << got[i].message << "\" lacks \"" << want[i].substr << "\"";
  }
}

}  // namespace faultline::experiments::loader_test
