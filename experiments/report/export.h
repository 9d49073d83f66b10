// Exports of a campaign's results: CSV (header, RFC 4180 quoting), JSON Lines
// (one pb::ExperimentResult per line in protobuf's JSON mapping, plus the
// fault index) and a length-delimited pb::ExperimentResult stream (varint
// length before each message, as protobuf's delimited-message utilities
// read it).
#pragma once

#include <ostream>
#include <string>
#include <string_view>

namespace faultline::store {
class Store;
}

namespace faultline::report {

enum class ExportFormat { Csv, Jsonl, Pb };

std::string csv_field(std::string_view s);
// Writes every row in id order; returns the number of rows.
uint64_t export_results(const store::Store& db, ExportFormat format, std::ostream& out);

}  // namespace faultline::report
