#!/bin/sh
# linux_boot.sh FAULTLINE MODE: boots the project's Linux 6.1 guest
# (experiments/guests) in faultline and checks what a user relies on:
#   initramfs  --linux bzImage --initrd: boot log on stdout, every workload ok,
#              exit status 0 through the power-off path, no kernel warnings
#   disk       the same with the disk image attached: the file workload runs
#              on the IDE disk, and the image file is not modified
#   determinism two identical boots give byte-identical output and the same
#              retired-instruction count
# Skips (exit 77) when FAULTLINE_LINUX_GUEST_DIR is not set: tools/test.sh
# builds the guest (cached) and sets it.
set -eu
fl=$1; mode=$2
d=${FAULTLINE_LINUX_GUEST_DIR:-}
if [ -z "$d" ] || [ ! -f "$d/bzImage" ]; then
  echo "linux_boot: FAULTLINE_LINUX_GUEST_DIR not set or empty; skipping"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
boot() {  # boot OUTFILE [extra args]
  out=$1; shift
  set +e
  "$fl" run --linux "$d/bzImage" --initrd "$d/initramfs.cpio.gz" --append "console=ttyS0" \
        --memory 128 --max-instructions 20000000000 --stats "$@" > "$out" 2> "$out.err"
  rc=$?
  set -e
  cat "$out.err" >> "$out"
  return $rc
}
check_log() {
  grep -q "faultline-init: started" "$1" || { echo "linux_boot: init never started"; tail -30 "$1"; exit 1; }
  grep -q "faultline-init: all workloads ok" "$1" || { echo "linux_boot: a workload failed"; grep workload "$1"; exit 1; }
  if grep -E -q "BUG:|WARNING:|Oops|Kernel panic" "$1"; then
    echo "linux_boot: kernel reported a problem:"; grep -E "BUG:|WARNING:|Oops|Kernel panic" "$1"; exit 1
  fi
}
case "$mode" in
  initramfs)
    boot "$tmp/log" || { echo "linux_boot: exit status $?"; tail -30 "$tmp/log"; exit 1; }
    check_log "$tmp/log"
    grep -E "workload|retired|MIPS" "$tmp/log" ;;
  disk)
    cp "$d/disk.img" "$tmp/disk.img"
    before=$(sha256sum < "$tmp/disk.img")
    boot "$tmp/log" --disk "$tmp/disk.img" || { echo "linux_boot: exit status $?"; tail -30 "$tmp/log"; exit 1; }
    check_log "$tmp/log"
    grep -q "filerw.*verify ok" "$tmp/log" || { echo "linux_boot: filerw did not use the disk"; grep filerw "$tmp/log"; exit 1; }
    after=$(sha256sum < "$tmp/disk.img")
    [ "$before" = "$after" ] || { echo "linux_boot: the disk image file was modified"; exit 1; }
    grep -E "filerw|retired" "$tmp/log" ;;
  determinism)
    boot "$tmp/a" || { echo "linux_boot: first boot failed"; exit 1; }
    boot "$tmp/b" || { echo "linux_boot: second boot failed"; exit 1; }
    grep -v -E "^(wall time|MIPS):" "$tmp/a" > "$tmp/a.cmp"
    grep -v -E "^(wall time|MIPS):" "$tmp/b" > "$tmp/b.cmp"
    if ! cmp -s "$tmp/a.cmp" "$tmp/b.cmp"; then
      echo "linux_boot: two boots differ:"; diff "$tmp/a.cmp" "$tmp/b.cmp" | head -20; exit 1
    fi
    grep retired "$tmp/a" ;;
  *) echo "linux_boot: unknown mode $mode"; exit 2 ;;
esac
