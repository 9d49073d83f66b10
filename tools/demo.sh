#!/usr/bin/env bash
# The main job on embedded defaults: installs what is needed, builds
# faultline (release preset), runs every guest test kernel in the
# interpreter, runs the demo fault-injection campaign (report + CSV export),
# measures interpreter speed, and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"
BIN=build/release/experiments/faultline
GUESTS=build/release/tests/guests
OUT=${FAULTLINE_OUT:-out/demo}
mkdir -p "$OUT"
pass=0; fail=0
: > "$OUT/guests.txt"
for k in "$GUESTS"/*.elf; do
  name=$(basename "$k" .elf)
  case "$name" in bench|bench_paging|bad_*) continue;; esac  # long loops; kernels meant to fail
  set +e
  "$BIN" run --kernel "$k" --max-instructions 2000000000 > "$OUT/$name.log" 2>&1
  rc=$?
  set -e
  if [[ $rc == 0 ]]; then pass=$((pass+1)); st=PASS; else fail=$((fail+1)); st="FAIL (exit $rc)"; fi
  printf '%-14s %s\n' "$name" "$st" | tee -a "$OUT/guests.txt"
done
# The demo campaign: bit flips in the checksum kernel's memory, 2 workers,
# then the report (text + HTML) and a CSV export.
DB="$OUT/memory_bitflips_checksum.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
"$BIN" campaign run experiments/examples/memory_bitflips_checksum.textproto --workers 2 --db "$DB"
"$BIN" report "$DB" --html "$OUT/report.html" | tee "$OUT/report.txt"
"$BIN" export "$DB" --format csv --output "$OUT/results.csv"
"$BIN" bench cpu --repeat 1 | tee "$OUT/bench.txt"
echo
echo "summary: $pass guest kernels passed, $fail failed; demo campaign in $DB (report $OUT/report.html, CSV $OUT/results.csv); logs and figures in $OUT/"
[[ $fail == 0 ]]
