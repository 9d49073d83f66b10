#!/usr/bin/env bash
# The main job on embedded defaults: installs what is needed, builds
# faultline (release preset), runs every guest test kernel in the
# interpreter, measures interpreter speed, and prints a summary.
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
  case "$name" in bench|bench_paging) continue;; esac
  set +e
  "$BIN" run --kernel "$k" --max-instructions 2000000000 > "$OUT/$name.log" 2>&1
  rc=$?
  set -e
  if [[ $rc == 0 ]]; then pass=$((pass+1)); st=PASS; else fail=$((fail+1)); st="FAIL (exit $rc)"; fi
  printf '%-14s %s\n' "$name" "$st" | tee -a "$OUT/guests.txt"
done
"$BIN" bench cpu --repeat 1 | tee "$OUT/bench.txt"
echo
echo "summary: $pass guest kernels passed, $fail failed; logs and figures in $OUT/"
[[ $fail == 0 ]]
