#!/bin/sh
# linux_boot.sh FAULTLINE MODE: boots the project's Linux 6.1 guest
# (experiments/guests) in faultline and checks what a user relies on:
#   initramfs  --linux bzImage --initrd: boot log on stdout, every workload ok,
#              exit status 0 through the power-off path, no kernel warnings
#   disk       the same with the disk image attached: the file workload runs
#              on the IDE disk, and the image file is not modified
#   determinism two identical boots give byte-identical output and the same
#              retired-instruction count
#   firmware   a PC boot of disk.img: Debian's SeaBIOS (default --bios) runs
#              from the reset vector, boots syslinux from the MBR, which
#              loads the kernel and initramfs through the BIOS; every
#              workload ok, the VGA text screen shows SeaBIOS's banner (read
#              from the text buffer), the screenshot PNG is 720x400, the
#              image file is unchanged
#   firmware-determinism two firmware boots are byte-identical
#   keyboard   --linux with console=tty0 fl.shell=1: text typed on the PS/2
#              keyboard reaches the guest shell, which echoes on the VGA
#              console and exits with the typed status
#   serial-in  --serial-in FIFO with console=ttyS0 fl.shell=1: commands
#              written into a named pipe by another process reach the shell
#              on COM1, which answers on stdout and exits with the status
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
  firmware)
    cp "$d/disk.img" "$tmp/disk.img"
    before=$(sha256sum < "$tmp/disk.img")
    set +e
    "$fl" run --disk "$tmp/disk.img" --memory 128 --max-instructions 20000000000 --stats \
          --screen-text --screenshot "$tmp/screen.png" > "$tmp/log" 2> "$tmp/log.err"
    rc=$?
    set -e
    cat "$tmp/log.err" >> "$tmp/log"
    [ $rc = 0 ] || { echo "linux_boot: firmware boot exit status $rc"; tail -30 "$tmp/log"; exit 1; }
    check_log "$tmp/log"
    grep -q "SYSLINUX" "$tmp/log" || { echo "linux_boot: syslinux never ran"; exit 1; }
    grep -q "filerw.*verify ok" "$tmp/log" || { echo "linux_boot: filerw did not use the disk"; exit 1; }
    grep -q "^SeaBIOS (version" "$tmp/log" || { echo "linux_boot: no SeaBIOS banner on the text screen"; exit 1; }
    [ -s "$tmp/screen.png" ] || { echo "linux_boot: no screenshot"; exit 1; }
    size=$(od -An -tx1 -j16 -N8 "$tmp/screen.png" | tr -d ' \n')
    [ "$size" = "000002d000000190" ] || { echo "linux_boot: screenshot IHDR size $size, want 720x400"; exit 1; }
    after=$(sha256sum < "$tmp/disk.img")
    [ "$before" = "$after" ] || { echo "linux_boot: the disk image file was modified"; exit 1; }
    grep -E "SeaBIOS|SYSLINUX|workloads|retired" "$tmp/log" ;;
  firmware-determinism)
    for run in a b; do
      "$fl" run --disk "$d/disk.img" --memory 128 --max-instructions 20000000000 --stats \
            > "$tmp/$run" 2>&1 || { echo "linux_boot: firmware boot $run failed"; tail -20 "$tmp/$run"; exit 1; }
      grep -v -E "^(wall time|MIPS):" "$tmp/$run" > "$tmp/$run.cmp"
    done
    if ! cmp -s "$tmp/a.cmp" "$tmp/b.cmp"; then
      echo "linux_boot: two firmware boots differ:"; diff "$tmp/a.cmp" "$tmp/b.cmp" | head -20; exit 1
    fi
    grep retired "$tmp/a" ;;
  keyboard)
    set +e
    "$fl" run --linux "$d/bzImage" --initrd "$d/initramfs.cpio.gz" --append "console=ttyS0 console=tty0 fl.shell=1" \
          --memory 128 --max-instructions 20000000000 --type 'echo typed-on-ps2\nexit 7\n' --type-at-ms 3000 \
          --screen-text > "$tmp/log" 2>&1
    rc=$?
    set -e
    [ $rc = 7 ] || { echo "linux_boot: shell exit status $rc, want 7 (typed 'exit 7')"; tail -30 "$tmp/log"; exit 1; }
    # The shell's answer on the VGA console: a line that is exactly the
    # echoed word (the typed command line itself starts with 'echo').
    grep -q "^typed-on-ps2 *$" "$tmp/log" || { echo "linux_boot: the typed command's output is not on the screen"; tail -30 "$tmp/log"; exit 1; }
    grep -q '^fl\$ ' "$tmp/log" || { echo "linux_boot: no shell prompt on the VGA console"; exit 1; }
    grep -E "typed|exit status" "$tmp/log" ;;
  serial-in)
    mkfifo "$tmp/in"
    # Written once the shell is surely up (the boot takes ~1.5 s of wall time
    # here); bytes sent while no program has the tty open would be flushed by
    # the kernel's serial driver when the shell opens it.
    ( sleep 6; printf 'echo via-pipe\nexit 5\n' > "$tmp/in" ) &
    set +e
    timeout 300 "$fl" run --linux "$d/bzImage" --initrd "$d/initramfs.cpio.gz" --append "console=ttyS0 fl.shell=1" \
          --memory 128 --serial-in "$tmp/in" > "$tmp/log" 2>&1
    rc=$?
    set -e
    wait
    [ $rc = 5 ] || { echo "linux_boot: shell exit status $rc, want 5 (sent 'exit 5')"; tail -30 "$tmp/log"; exit 1; }
    grep -q "^via-pipe" "$tmp/log" || { echo "linux_boot: no answer to the piped command"; tail -30 "$tmp/log"; exit 1; }
    grep -E "via-pipe|exit status" "$tmp/log" ;;
  *) echo "linux_boot: unknown mode $mode"; exit 2 ;;
esac
