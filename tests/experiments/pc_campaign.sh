#!/bin/sh
# pc_campaign.sh FAULTLINE EXAMPLE MODE: campaign commands on a PC-platform
# (Linux guest) campaign.
#   replay  runs a few experiments, then `faultline replay` must reproduce
#           every one of them (outcome and output digest; exit 0)
#   resume  an uninterrupted run; a second run SIGKILLed once some results
#           are committed, then `campaign resume`: the resumed database has
#           every planned experiment exactly once, each with the same
#           outcome, output digest and end as the uninterrupted run
# Skips (exit 77) when FAULTLINE_LINUX_GUEST_DIR is not set.
set -eu
fl=$1; example=$2; mode=$3
d=${FAULTLINE_LINUX_GUEST_DIR:-}
if [ -z "$d" ] || [ ! -f "$d/bzImage" ]; then
  echo "pc_campaign: FAULTLINE_LINUX_GUEST_DIR not set or empty; skipping"; exit 77
fi
tmp=$(mktemp -d)
pid=
cleanup() { if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi; rm -rf "$tmp"; }
trap cleanup EXIT
# id, outcome, end_instruction, output_digest of every row, sorted by id.
rows() { "$fl" export "$1" --format csv | tail -n +2 | cut -d, -f1,8,9,12 | sort -t, -k1,1n; }
case "$mode" in
  replay)
    "$fl" campaign run "$example" --samples 6 --workers 2 --db "$tmp/c.db" --quiet
    rows "$tmp/c.db"
    for id in 0 1 2; do
      if ! "$fl" replay "$tmp/c.db" --experiment "$id" > "$tmp/replay.log" 2>&1; then
        echo "pc_campaign: experiment $id did not replay:"; cat "$tmp/replay.log"; exit 1
      fi
      grep -q "^reproduced" "$tmp/replay.log" || { cat "$tmp/replay.log"; exit 1; }
    done
    echo "pc_campaign: 3 of 3 experiments reproduced" ;;
  resume)
    n=20
    "$fl" campaign run "$example" --samples $n --workers 2 --db "$tmp/whole.db" --quiet
    "$fl" campaign run "$example" --samples $n --workers 2 --db "$tmp/killed.db" --quiet > "$tmp/killed.log" 2>&1 &
    pid=$!
    # Kill it once at least 4 results are committed (or give up after 120 s).
    i=0
    while :; do
      i=$((i + 1))
      if [ $i -gt 600 ]; then echo "pc_campaign: no results after 120 s"; cat "$tmp/killed.log"; exit 1; fi
      if ! kill -0 "$pid" 2>/dev/null; then echo "pc_campaign: the run ended before it was killed"; exit 1; fi
      if [ -f "$tmp/killed.db" ]; then
        got=$("$fl" export "$tmp/killed.db" --format csv 2>/dev/null | tail -n +2 | wc -l || echo 0)
        [ "$got" -ge 4 ] && break
      fi
      sleep 0.2
    done
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=
    before=$(rows "$tmp/killed.db" | wc -l)
    echo "pc_campaign: killed with $before of $n results committed"
    [ "$before" -lt $n ] || { echo "pc_campaign: every result was in before the kill"; exit 1; }
    "$fl" campaign resume "$tmp/killed.db" --workers 2 --quiet
    rows "$tmp/whole.db" > "$tmp/whole.rows"
    rows "$tmp/killed.db" > "$tmp/killed.rows"
    [ "$(wc -l < "$tmp/whole.rows")" -eq $n ] || { echo "pc_campaign: uninterrupted run has $(wc -l < "$tmp/whole.rows") rows"; exit 1; }
    if ! cmp -s "$tmp/whole.rows" "$tmp/killed.rows"; then
      echo "pc_campaign: the resumed campaign differs from the uninterrupted one:"
      diff "$tmp/whole.rows" "$tmp/killed.rows" | head -20; exit 1
    fi
    cut -d, -f2 "$tmp/killed.rows" | sort | uniq -c
    echo "pc_campaign: resumed campaign equals the uninterrupted one ($n rows)" ;;
  *) echo "pc_campaign: unknown mode $mode"; exit 2 ;;
esac
