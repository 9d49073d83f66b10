#!/bin/sh
# Run every built guest kernel in QEMU and report PASS/FAIL.
#
# Usage: run-in-qemu.sh [KERNEL_DIR] [NAME...]
#   KERNEL_DIR  directory with the built <name>.elf files (default: the
#               current directory); NAMEs restrict the run to those kernels.
# This checks the kernels themselves against QEMU (TCG, Pentium II model).
# The command line word "qemu" tells the kernels to skip the few checks of
# behaviour QEMU does not emulate (they print SKIP lines) and to mask the
# PIC QEMU's BIOS left enabled.  QEMU's isa-debug-exit turns a write of v to
# port 0xF4 into exit status (v << 1) | 1, so status 1 means PASS.
# Environment: QEMU (default qemu-system-i386), TIMEOUT seconds (default 120),
# VERBOSE=1 to show the guests' console output.
set -u
dir=${1:-.}
[ $# -gt 0 ] && shift
qemu=${QEMU:-qemu-system-i386}
timeout_s=${TIMEOUT:-120}

if [ $# -gt 0 ]; then
    names="$*"
else
    names=$(cd "$dir" && ls *.elf 2>/dev/null | sed 's/\.elf$//')
fi
if [ -z "$names" ]; then
    echo "no kernels found in $dir" >&2
    exit 2
fi

pass=0
fail=0
failed=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for k in $names; do
    timeout "$timeout_s" "$qemu" -kernel "$dir/$k.elf" -append qemu \
        -display none -debugcon "file:$log" -serial none -monitor none \
        -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -no-reboot -nic none -m 32 -cpu pentium2 >/dev/null 2>&1
    rc=$?
    if [ "$rc" -eq 1 ]; then
        printf 'PASS  %-20s' "$k"
        pass=$((pass + 1))
    else
        if [ "$rc" -eq 124 ]; then
            why="timeout after ${timeout_s}s"
        elif [ $((rc & 1)) -eq 1 ]; then
            why="exit status $(( (rc - 1) / 2 ))"
        else
            why="QEMU status $rc (no exit port write: reset or crash)"
        fi
        printf 'FAIL  %-20s %s' "$k" "$why"
        fail=$((fail + 1))
        failed="$failed $k"
    fi
    skips=$(grep -c '^  SKIP' "$log")
    [ "$skips" -gt 0 ] && printf '  (%s checks skipped under QEMU)' "$skips"
    printf '\n'
    if [ "$rc" -ne 1 ] || [ "${VERBOSE:-0}" = 1 ]; then
        sed 's/^/    | /' "$log"
    fi
done
echo "$pass passed, $fail failed${failed:+:$failed}"
[ "$fail" -eq 0 ]
