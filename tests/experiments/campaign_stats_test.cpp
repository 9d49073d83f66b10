// Unit tests: SHA-256 known answers, Wilson intervals, CSV quoting, output
// diff summaries.
#include <gtest/gtest.h>

#include "experiments/campaign/session.h"
#include "experiments/campaign/sha256.h"
#include "experiments/report/export.h"
#include "experiments/report/stats.h"

namespace faultline {
namespace {

TEST(CampaignSha256, KnownAnswers) {
  // FIPS 180-2 examples and the empty string.
  EXPECT_EQ(campaign::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(campaign::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(campaign::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(campaign::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(CampaignSha256, IncrementalUpdatesMatchOneShot) {
  std::string text;
  for (int i = 0; i < 300; i++) text += static_cast<char>(i * 7);
  for (size_t split : {0ul, 1ul, 55ul, 56ul, 63ul, 64ul, 65ul, 200ul}) {
    campaign::Sha256 h;
    h.update(std::string_view(text).substr(0, split));
    h.update(std::string_view(text).substr(split));
    auto d = h.finish();
    std::string hex;
    for (uint8_t b : d) {
      char buf[3];
      std::snprintf(buf, sizeof buf, "%02x", b);
      hex += buf;
    }
    EXPECT_EQ(hex, campaign::sha256_hex(text)) << "split " << split;
  }
}

TEST(CampaignWilson, KnownValues) {
  // Closed-form values (z = 1.959964); 5/10 -> [0.2366, 0.7634] and
  // 0/10 -> [0, 0.2775] are the usual textbook examples.
  auto ci = report::wilson(5, 10);
  EXPECT_NEAR(ci.lo, 0.236593, 1e-5);
  EXPECT_NEAR(ci.hi, 0.763407, 1e-5);
  ci = report::wilson(0, 10);
  EXPECT_NEAR(ci.lo, 0.0, 1e-9);
  EXPECT_NEAR(ci.hi, 0.277533, 1e-5);
  ci = report::wilson(10, 10);
  EXPECT_NEAR(ci.lo, 0.722467, 1e-5);
  EXPECT_NEAR(ci.hi, 1.0, 1e-9);
  ci = report::wilson(81, 263);
  EXPECT_NEAR(ci.lo, 0.255289, 1e-5);
  EXPECT_NEAR(ci.hi, 0.366210, 1e-5);
  ci = report::wilson(0, 0);
  EXPECT_EQ(ci.lo, 0.0);
  EXPECT_EQ(ci.hi, 1.0);
}

TEST(CampaignExport, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(report::csv_field("plain"), "plain");
  EXPECT_EQ(report::csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(report::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(report::csv_field("two\nlines"), "\"two\nlines\"");
}

TEST(CampaignDiff, NamesFirstDifferingLine) {
  EXPECT_EQ(campaign::diff_summary("a\nb\n", "a\nb\n", 0, 0), "");
  EXPECT_EQ(campaign::diff_summary("a\nb\n", "a\nb\n", 0, 3), "exit status 0 vs 3");
  EXPECT_EQ(campaign::diff_summary("x=1\nchecksum=0x12\nPASS\n", "x=1\nchecksum=0x13\nFAIL\n", 0, 1),
            "line 2: golden \"checksum=0x12\" vs faulty \"checksum=0x13\"");
  EXPECT_EQ(campaign::diff_summary("a\nb\n", "a\n", 0, 0), "line 2: golden \"b\" vs faulty <end of output>");
  std::string long_line(200, 'z');
  std::string d = campaign::diff_summary(long_line, long_line + "\x01", 0, 0);
  EXPECT_LT(d.size(), 220u);
  EXPECT_NE(d.find("..."), std::string::npos);
}

}  // namespace
}  // namespace faultline
