#!/bin/sh
# run_example.sh FAULTLINE EXAMPLE SAMPLES OUTCOME...: runs an example
# campaign with a small sample in a scratch directory and fails unless every
# listed outcome occurs at least once (the physics of the example says it
# must: e.g. flips in the checksum's data give SDC, flips in unused RAM are
# benign). Prints the outcome counts. Linux-guest examples skip (exit 77)
# without FAULTLINE_LINUX_GUEST_DIR.
set -eu
fl=$1; example=$2; samples=$3; shift 3
# Examples on the Linux guest skip (77) when its directory is not given.
if grep -q 'FAULTLINE_LINUX_GUEST_DIR' "$example" && [ -z "${FAULTLINE_LINUX_GUEST_DIR:-}" ]; then
  echo "run_example: FAULTLINE_LINUX_GUEST_DIR not set; skipping"; exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$fl" campaign run "$example" --samples "$samples" --workers 2 --db "$dir/c.db" --quiet
"$fl" export "$dir/c.db" --format csv --output "$dir/c.csv"
# outcome is the 8th CSV column; the fault text at the end may hold commas,
# but the first eight columns never do.
tail -n +2 "$dir/c.csv" | cut -d, -f8 | sort | uniq -c
rows=$(tail -n +2 "$dir/c.csv" | wc -l)
if [ "$rows" -ne "$samples" ]; then echo "run_example: $rows rows, planned $samples"; exit 1; fi
for want in "$@"; do
  if ! tail -n +2 "$dir/c.csv" | cut -d, -f8 | grep -qx "$want"; then
    echo "run_example: no $want outcome in $samples experiments"; exit 1
  fi
done
