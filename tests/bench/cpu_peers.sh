#!/usr/bin/env bash
# cpu_peers.sh - interpreter speed of faultline against QEMU TCG and Bochs on
# the same CPU-bound guest loop (the project's bench kernels), on this machine,
# in one run.  Prints a table and writes it into docs/performance.md
# (section "## CPU benchmark loop").  A benchmark, not a test: it reports
# figures; it exits non-zero only when a tool fails to run.
#
# usage: tests/bench/cpu_peers.sh [options] [BUILD_DIR]
#   BUILD_DIR         CMake build directory (default: build/release under the
#                     repository); faultline is BUILD_DIR/experiments/faultline,
#                     the kernels BUILD_DIR/tests/guests/<name>.elf
#   -n, --runs N      runs per kernel and tool, the best one counts (default 3)
#   --kernels "A B"   kernels to measure (default "bench bench_paging")
#   --small           shorthand for --kernels "bench_small bench_paging_small"
#   --bochs-count     also count the instructions with Bochs's debugger
#                     (automatic when faultline cannot give the count)
#   --build           first build the targets faultline and guest_kernels in
#                     BUILD_DIR (configuring build/release with its preset if
#                     needed); by default the script uses what is built
#   --no-doc          do not touch docs/performance.md
#   --clock C         time base for MIPS: "wall" (wall-clock time), "cpu" (the
#                     process's user+system CPU time, all threads: steady when
#                     other jobs compete for the CPUs) or "auto" (default: wall,
#                     unless the 1-minute load average at the start or the end
#                     exceeds the CPU count).  Both are in the times table.
#   --timeout S       limit for one emulator run in seconds (default 150)
#   -h, --help
#
# Method (identical for the three tools):
#   * each tool runs the kernel from process start until the guest's final
#     "PASS" line / exit, timed from outside (tests/bench/timed_run.py: wall
#     clock and the process's CPU time); the best of N runs counts;
#   * each tool's fixed cost (process start, firmware, loading, exit) is the
#     best of N runs of a trivial kernel (tests/bench/null_kernel.S) started
#     the same way, and is subtracted;
#   * MIPS = (instructions of the kernel - instructions of the trivial kernel)
#     / (that difference of times, see --clock).  The instruction count comes from
#     `faultline run --stats` (retired instructions); the same guest code runs
#     in all three tools.  When faultline cannot run, Bochs's tick counter at a
#     breakpoint on the kernels' `exit` function is used instead.
#   QEMU:  qemu-system-i386 -accel tcg -cpu pentium2 -kernel K -m 32 with the
#          isa-debug-exit device on port 0xF4 and -debugcon for port 0xE9.
#   Bochs: cannot load a multiboot ELF; the script builds a 1.44 MB floppy with
#          a boot sector (tests/bench/bochs_boot.S) that loads the kernel's flat
#          image with int 13h, enters protected mode, copies it to its load
#          address and enters it with the multiboot register state.  Every
#          floppy loads the same number of sectors so the loading cost cancels.
#          Bochs has no exit device: the run ends when "PASS" appears on the
#          port 0xE9 console (port_e9_hack), then Bochs is killed with SIGKILL.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ORIG_ARGS=("$@")

RUNS=3
KERNELS="bench bench_paging"
DO_BUILD=0
DO_DOC=1
BOCHS_COUNT=0
TIMEOUT=150
CLOCK=auto
BUILD_DIR=""
MEM_MB=32

usage() { sed -n '/^# usage:/,/^#   -h, --help/p' "$0" | sed 's/^# \{0,1\}//'; }
note() { echo "cpu_peers: $*" >&2; }
die() { echo "cpu_peers: error: $*" >&2; exit 1; }

while (($#)); do
  case "$1" in
    -n | --runs) RUNS=${2:?}; shift ;;
    --kernels) KERNELS=${2:?}; shift ;;
    --small) KERNELS="bench_small bench_paging_small" ;;
    --bochs-count) BOCHS_COUNT=1 ;;
    --build) DO_BUILD=1 ;;
    --no-doc) DO_DOC=0 ;;
    --timeout) TIMEOUT=${2:?}; shift ;;
    --clock) CLOCK=${2:?}; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) [ -z "$BUILD_DIR" ] || die "only one BUILD_DIR"; BUILD_DIR=$1 ;;
  esac
  shift
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive number"
[[ "$CLOCK" =~ ^(wall|cpu|auto)$ ]] || die "--clock is wall, cpu or auto"
[ -n "$BUILD_DIR" ] || BUILD_DIR="$ROOT/build/release"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$PWD/$BUILD_DIR" ;; esac
BUILD_DIR=${BUILD_DIR%/}
FAULTLINE="$BUILD_DIR/experiments/faultline"
GUEST_DIR="$BUILD_DIR/tests/guests"
T_START=$(date +%s)
LOADAVG=$(cut -d" " -f1-3 /proc/loadavg)

# ---- tools ------------------------------------------------------------------
BOCHS_BIOS=/usr/share/bochs/BIOS-bochs-latest
BOCHS_VGABIOS=/usr/share/vgabios/vgabios.bin
need=()
command -v qemu-system-i386 >/dev/null || need+=(qemu-system-x86)
command -v bochs-bin >/dev/null || need+=(bochs)
[ -f "$BOCHS_BIOS" ] || need+=(bochsbios)
[ -f "$BOCHS_VGABIOS" ] || need+=(vgabios)
[ -d /usr/share/seabios ] || need+=(seabios)
if ((${#need[@]})); then
  note "installing ${need[*]} with apt-get"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q "${need[@]}" >&2 ||
    { $SUDO apt-get update -q >&2 && $SUDO apt-get install -y -q "${need[@]}" >&2; } ||
    die "could not install ${need[*]}"
fi
for t in qemu-system-i386 bochs-bin gcc ld readelf nm dd python3; do
  command -v "$t" >/dev/null || die "$t not found"
done

W=$(mktemp -d /tmp/cpu_peers.XXXXXX)
trap 'rm -rf "$W"' EXIT

# ---- build ------------------------------------------------------------------
if ((DO_BUILD)); then
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && [ "$BUILD_DIR" = "$ROOT/build/release" ]; then
    note "configuring $BUILD_DIR (cmake --preset release)"
    (cd "$ROOT" && cmake --preset release) >"$W/configure.log" 2>&1 ||
      { note "configure failed; using whatever exists. Last lines:"; tail -n 5 "$W/configure.log" >&2; }
  fi
  if [ -f "$BUILD_DIR/CMakeCache.txt" ]; then
    for target in guest_kernels faultline; do
      note "building $target in $BUILD_DIR"
      cmake --build "$BUILD_DIR" -j1 --target "$target" >"$W/build-$target.log" 2>&1 ||
        { note "building $target failed; using whatever exists. Last lines:"; tail -n 5 "$W/build-$target.log" >&2; }
    done
  fi
fi

kernels=()
for k in $KERNELS; do
  if [ -f "$GUEST_DIR/$k.elf" ]; then kernels+=("$k"); else note "kernel $GUEST_DIR/$k.elf missing: skipped"; fi
done
((${#kernels[@]})) || die "none of the kernels ($KERNELS) exists in $GUEST_DIR"

# The trivial kernel that measures each tool's fixed cost.
printf 'ENTRY(_start)\nSECTIONS { . = 0x100000; .text : { *(.text) } /DISCARD/ : { *(.note*) } }\n' >"$W/null.ld"
gcc -m32 -c -o "$W/null.o" "$HERE/null_kernel.S" &&
  ld -m elf_i386 -T "$W/null.ld" --build-id=none -z noexecstack -o "$W/null.elf" "$W/null.o" ||
  die "cannot build the trivial kernel"

declare -A ELF=()
ELF[null]="$W/null.elf"
for k in "${kernels[@]}"; do ELF[$k]="$GUEST_DIR/$k.elf"; done
all=(null "${kernels[@]}")

# ---- Bochs floppies -----------------------------------------------------------
# flat_image ELF OUT: lay the PT_LOAD segments' file contents out at their
# physical addresses relative to the lowest one (what a multiboot loader does),
# and print "LOW END ENTRY": lowest physical address, end of the highest
# segment in memory (incl. .bss), entry point, all decimal.
flat_image() {
  local low=-1 end=0 o a f m e entry
  local segs
  segs=$(readelf -lW "$1" | awk '$1 == "LOAD" { print $2, $4, $5, $6 }')
  [ -n "$segs" ] || return 1
  while read -r o a f m; do
    ((a = a, m = m, e = a + m))
    ((low < 0 || a < low)) && low=$a
    ((e > end)) && end=$e
  done <<<"$segs"
  : >"$2"
  while read -r o a f m; do
    ((o = o, a = a, f = f))
    ((f > 0)) || continue
    dd if="$1" of="$2" bs=4096 iflag=skip_bytes,count_bytes oflag=seek_bytes conv=notrunc \
      skip="$o" count="$f" seek=$((a - low)) status=none || return 1
  done <<<"$segs"
  entry=$(readelf -hW "$1" | awk '/Entry point address/ { print $4 }')
  echo "$low $end $((entry))"
}
declare -A RANGE=()
sectors=1
for k in "${all[@]}"; do
  RANGE[$k]=$(flat_image "${ELF[$k]}" "$W/$k.bin") || die "cannot read the segments of ${ELF[$k]}"
  n=$((($(stat -c %s "$W/$k.bin") + 511) / 512))
  ((n > sectors)) && sectors=$n
done
# the boot sector stages the image at 0x10000..0x9F000 in real mode
((sectors <= 1144)) || die "kernel image too large for the Bochs boot floppy ($sectors sectors)"
for k in "${all[@]}"; do
  read -r low end entry <<<"${RANGE[$k]}"
  ((low >= 0x100000)) || die "${ELF[$k]}: loads below 1 MiB"
  gcc -m32 -c -o "$W/boot-$k.o" -DKSECTORS="$sectors" -DKLOAD="$low" -DKEND="$end" \
    -DKENTRY="$entry" -DMEM_MB="$MEM_MB" "$HERE/bochs_boot.S" &&
    ld -m elf_i386 -Ttext=0x7c00 -e _start --oformat binary -o "$W/boot-$k.bin" "$W/boot-$k.o" ||
    die "cannot build the Bochs boot sector"
  [ "$(stat -c %s "$W/boot-$k.bin")" -eq 512 ] || die "boot sector is not 512 bytes"
  img="$W/$k.img"
  dd if=/dev/zero of="$img" bs=512 count=2880 status=none
  dd if="$W/boot-$k.bin" of="$img" conv=notrunc status=none
  dd if="$W/$k.bin" of="$img" bs=512 seek=1 conv=notrunc status=none
  cat >"$W/$k.bochsrc" <<EOF
megs: $MEM_MB
romimage: file=$BOCHS_BIOS
vgaromimage: file=$BOCHS_VGABIOS
floppya: 1_44=$img, status=inserted
boot: floppy
floppy_bootsig_check: disabled=0
display_library: rfb, options="timeout=0"
sound: driver=dummy
speaker: enabled=0
mouse: enabled=0
port_e9_hack: enabled=1
clock: sync=none, time0=local
cpu: model=p2_klamath, ips=50000000
log: $W/$k.bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
EOF
done
echo c >"$W/bochs.rc"

# ---- runners ----------------------------------------------------------------
# Each prints "WALL CPU STATUS" (see timed_run.py); the log goes to $W/last.log.
run_faultline() {
  python3 "$HERE/timed_run.py" --timeout "$TIMEOUT" --log "$W/last.log" -- \
    "$FAULTLINE" run --kernel "${ELF[$1]}" --memory "$MEM_MB" --stats
}
run_qemu() {
  python3 "$HERE/timed_run.py" --timeout "$TIMEOUT" --log "$W/last.log" -- \
    qemu-system-i386 -accel tcg -cpu pentium2 -kernel "${ELF[$1]}" -display none \
    -debugcon stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot -nic none -m "$MEM_MB"
}
run_bochs() {
  (cd "$W" && python3 "$HERE/timed_run.py" --until-pass --timeout "$TIMEOUT" --log "$W/last.log" -- \
    bochs-bin -q -f "$W/$1.bochsrc" -rc "$W/bochs.rc")
}
# ok TOOL STATUS: did the run end with the guest's PASS?
ok() {
  case "$1" in
    faultline) [ "$2" = 0 ] && grep -q '^PASS' "$W/last.log" ;;
    qemu) [ "$2" = 1 ] && grep -q '^PASS' "$W/last.log" ;; # isa-debug-exit: (0 << 1) | 1
    bochs) [ "$2" = pass ] ;;
  esac
}

declare -A BEST=() BESTW=() BESTC=() FAILED=() SELF_MIPS=() FL_COUNT=() BOCHS_TICKS=()
failures=0
have_faultline=0
if [ -x "$FAULTLINE" ]; then
  read -r s c st < <(run_faultline null)
  if ok faultline "$st"; then
    have_faultline=1
  else
    note "faultline does not run the trivial kernel (status $st): faultline column pending. Log:"
    tail -n 5 "$W/last.log" >&2
  fi
else
  note "$FAULTLINE not built: faultline column pending"
fi
tools=(qemu bochs)
((have_faultline)) && tools=(faultline qemu bochs)

# N rounds; each round runs every kernel once in every tool (interleaved, so
# a burst of background load does not hit one tool only).
for ((r = 1; r <= RUNS; r++)); do
  for k in "${all[@]}"; do
    for t in "${tools[@]}"; do
      [ -n "${FAILED[$t.$k]:-}" ] && continue
      read -r s c st < <("run_$t" "$k")
      if ! ok "$t" "$st"; then
        FAILED[$t.$k]="status $st"
        note "$t on $k failed (status $st); last lines of its output:"
        grep -v '^$' "$W/last.log" | tail -n 8 >&2
        failures=$((failures + 1))
        continue
      fi
      note "round $r: $t $k: wall ${s}s, cpu ${c}s"
      if [ -z "${BESTW[$t.$k]:-}" ] || awk -v a="$s" -v b="${BESTW[$t.$k]}" 'BEGIN { exit !(a < b) }'; then
        BESTW[$t.$k]=$s
      fi
      if [ -z "${BESTC[$t.$k]:-}" ] || awk -v a="$c" -v b="${BESTC[$t.$k]}" 'BEGIN { exit !(a < b) }'; then
        BESTC[$t.$k]=$c
      fi
      if [ "$t" = faultline ]; then
        n=$(awk -F': ' '/^retired instructions:/ { print $2 }' "$W/last.log")
        [ -n "$n" ] && FL_COUNT[$k]=$n
        m=$(awk '/^MIPS:/ { print $2 }' "$W/last.log")
        if [ -n "$m" ] && awk -v a="$m" -v b="${SELF_MIPS[$k]:-0}" 'BEGIN { exit !(a > b) }'; then
          SELF_MIPS[$k]=$m
        fi
      fi
    done
  done
done

# Instruction counts from Bochs (ticks at a breakpoint on `exit`), when
# faultline cannot provide them or when asked for as a cross-check.
need_bochs_count=$BOCHS_COUNT
for k in "${kernels[@]}"; do [ -n "${FL_COUNT[$k]:-}" ] && [ -n "${FL_COUNT[null]:-}" ] || need_bochs_count=1; done
if ((need_bochs_count)); then
  for k in "${all[@]}"; do
    addr=$(nm "${ELF[$k]}" | awk '$3 == "exit" { print $1; exit }')
    [ -n "$addr" ] || { note "no exit symbol in ${ELF[$k]}: no Bochs instruction count"; continue; }
    printf 'lb 0x%s\nc\nptime\nquit\n' "$addr" >"$W/count.rc"
    (cd "$W" && python3 "$HERE/timed_run.py" --timeout "$TIMEOUT" --log "$W/last.log" -- \
      bochs-bin -q -f "$W/$k.bochsrc" -rc "$W/count.rc") >/dev/null
    t=$(awk '/^ptime: / { print $2 }' "$W/last.log")
    if [ -n "$t" ]; then BOCHS_TICKS[$k]=$t; note "Bochs count: $k $t ticks"; else note "Bochs count failed for $k"; fi
  done
fi

# ---- results ----------------------------------------------------------------
LOADAVG_END=$(cut -d" " -f1-3 /proc/loadavg)
# busy: was the 1-minute load average above the CPU count at the start or end?
busy() { awk -v a="${LOADAVG%% *}" -v b="${LOADAVG_END%% *}" -v n="$(nproc)" 'BEGIN { exit !(a > n || b > n) }'; }
if busy; then
  note "load average $LOADAVG at the start, $LOADAVG_END now, on $(nproc) CPUs: the machine is busy, wall times are inflated"
  [ "$CLOCK" = auto ] && CLOCK=cpu
fi
[ "$CLOCK" = auto ] && CLOCK=wall
note "MIPS from $CLOCK times"
for key in "${!BESTW[@]}"; do
  if [ "$CLOCK" = wall ]; then BEST[$key]=${BESTW[$key]}; else BEST[$key]=${BESTC[$key]}; fi
done

# instructions of kernel k net of the trivial kernel, and where they came from
declare -A NET=()
count_src=""
for k in "${kernels[@]}"; do
  if [ -n "${FL_COUNT[$k]:-}" ] && [ -n "${FL_COUNT[null]:-}" ]; then
    NET[$k]=$((FL_COUNT[$k] - FL_COUNT[null]))
    count_src="faultline"
  elif [ -n "${BOCHS_TICKS[$k]:-}" ] && [ -n "${BOCHS_TICKS[null]:-}" ]; then
    NET[$k]=$((BOCHS_TICKS[$k] - BOCHS_TICKS[null]))
    count_src="bochs"
  fi
done

# mips TOOL KERNEL -> MIPS (text) or a reason
mips() {
  local t=$1 k=$2
  if [ "$t" = faultline ] && ((!have_faultline)); then echo pending; return; fi
  [ -n "${FAILED[$t.$k]:-}" ] && { echo "failed"; return; }
  [ -n "${FAILED[$t.null]:-}" ] && { echo "failed"; return; }
  [ -n "${NET[$k]:-}" ] || { echo "n/a"; return; }
  awk -v n="${NET[$k]}" -v a="${BEST[$t.$k]}" -v b="${BEST[$t.null]}" \
    'BEGIN { d = a - b; if (d < 0.05) print "n/a (too short)"; else printf "%.0f%s\n", n / d / 1e6, d < 0.5 ? " (short)" : "" }'
}
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.3f\n", a / b; else print "-" }'
}
fmt_count() { [ -n "${1:-}" ] && awk -v n="$1" 'BEGIN { printf "%.1f M\n", n / 1e6 }' || echo "-"; }

table="$W/table.md"
{
  echo "| kernel | instructions | faultline MIPS | QEMU TCG MIPS | Bochs MIPS | faultline/QEMU | faultline/Bochs | faultline --stats MIPS (in-process, wall) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for k in "${kernels[@]}"; do
    f=$(mips faultline "$k"); q=$(mips qemu "$k"); b=$(mips bochs "$k")
    self=${SELF_MIPS[$k]:-$([ "$f" = pending ] && echo pending || echo -)}
    echo "| $k | $(fmt_count "${NET[$k]:-}") | $f | $q | $b | $(ratio "$f" "$q") | $(ratio "$f" "$b") | $self |"
  done
} >"$table"
times="$W/times.md"
{
  echo "| kernel | faultline wall s | QEMU wall s | Bochs wall s | faultline CPU s | QEMU CPU s | Bochs CPU s |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for k in "${all[@]}"; do
    row="| $k"
    for x in faultline.W qemu.W bochs.W faultline.C qemu.C bochs.C; do
      t=${x%.*}
      if [ "${x#*.}" = W ]; then v=${BESTW[$t.$k]:-}; else v=${BESTC[$t.$k]:-}; fi
      if [ -n "$v" ]; then row+=" | $(printf '%.3f' "$v")"
      elif [ -n "${FAILED[$t.$k]:-}" ]; then row+=" | failed"
      else row+=" | -"; fi
    done
    echo "$row |"
  done
} >"$times"

echo
cat "$table"
echo
echo "Best times of $RUNS runs (null = trivial kernel, subtracted); MIPS use the $CLOCK times:"
cat "$times"
case "$count_src" in
  faultline) echo "Instructions: faultline --stats (retired), net of the trivial kernel." ;;
  bochs) echo "Instructions: Bochs tick counter at the kernel's exit(), net of the trivial kernel (faultline pending)." ;;
  *) echo "Instructions: unavailable (no MIPS could be computed)." ;;
esac
grep -q '(short)\|too short' "$table" &&
  echo "(short)/too short: under 0.5 s / 0.05 s of measured time; use the full-size kernels for real figures."
if ((${#BOCHS_TICKS[@]})) && [ "$count_src" = faultline ]; then
  for k in "${kernels[@]}"; do
    [ -n "${BOCHS_TICKS[$k]:-}" ] && [ -n "${BOCHS_TICKS[null]:-}" ] &&
      echo "Cross-check: Bochs counts $((BOCHS_TICKS[$k] - BOCHS_TICKS[null])) instructions for $k, faultline ${NET[$k]}."
  done
fi

# ---- docs/performance.md -----------------------------------------------------
peer_failed=0
for k in "${all[@]}"; do
  [ -n "${FAILED[qemu.$k]:-}${FAILED[bochs.$k]:-}" ] && peer_failed=1
done
if ((DO_DOC)) && ((peer_failed)); then
  note "QEMU or Bochs failed: docs/performance.md left unchanged"
elif ((DO_DOC)); then
  cmd="tests/bench/cpu_peers.sh"
  for a in "${ORIG_ARGS[@]}"; do cmd+=" $(printf '%q' "$a")"; done
  cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  qemu_ver=$(qemu-system-i386 --version | head -n 1)
  bochs_ver=$(dpkg-query -W -f='${Version}' bochs 2>/dev/null || echo unknown)
  bochs_banner=$(grep -ao 'Bochs x86 Emulator [0-9.]*' "$W/null.bochs.log" "$W/last.log" 2>/dev/null | head -n 1 | sed 's/^[^:]*://')
  rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -n 1)" ] && rev+=" plus uncommitted changes"
  btype=$(awk -F= '/^CMAKE_BUILD_TYPE:/ { print $2 }' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null)
  section="$W/section.md"
  {
    echo "## CPU benchmark loop"
    echo
    echo "Interpreter speed on the CRC loop of the bench kernels (tests/guests/bench),"
    echo "the same guest code in faultline, QEMU TCG and Bochs. Produced by"
    echo
    echo '```'
    echo "$cmd"
    echo '```'
    echo
    echo "on $(date -u '+%Y-%m-%d %H:%M UTC'), best of $RUNS runs per tool and kernel, MIPS from $([ "$CLOCK" = wall ] && echo wall-clock || echo "user+system CPU") times."
    echo
    cat "$table"
    echo
    if grep -q '(short)\|too short' "$table"; then
      echo "(short)/too short: under 0.5 s / 0.05 s of measured time, not meaningful; the full-size kernels give the real figures."
      echo
    fi
    if ((!have_faultline)); then
      echo "The faultline column is pending: \`${FAULTLINE#"$ROOT"/}\` was not built or does not run the kernels yet."
      echo
    fi
    echo "- Machine: $(nproc) CPUs, $cpu_model, Linux $(uname -r); load average $LOADAVG at the start, $LOADAVG_END at the end$(busy && echo " (other jobs were competing for the CPUs: wall times are inflated, CPU times are steadier)")."
    echo "- faultline: commit $rev, build directory \`${BUILD_DIR#"$ROOT"/}\` (${btype:-unknown build type})."
    echo "- QEMU: $qemu_ver; \`qemu-system-i386 -accel tcg -cpu pentium2 -kernel K -display none -debugcon stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot -nic none -m $MEM_MB\`."
    echo "- Bochs: ${bochs_banner:-Bochs} (Debian package $bochs_ver, built with its internal debugger), \`cpu: model=p2_klamath, ips=50000000\`, \`clock: sync=none\`, rfb display, booted from a floppy made by the script (boot sector tests/bench/bochs_boot.S loads the kernel's flat image and enters it like a multiboot loader)."
    case "$count_src" in
      faultline) echo "- Instructions: retired instructions reported by \`faultline run --stats\`, minus those of the trivial kernel; the same count converts the peers' times to MIPS." ;;
      bochs) echo "- Instructions: Bochs's tick counter at a breakpoint on the kernel's \`exit()\` (faultline could not count), minus the trivial kernel's." ;;
      *) echo "- Instructions: unavailable." ;;
    esac
    echo "- MIPS = instructions / (time of the kernel - time of a trivial kernel, tests/bench/null_kernel.S), each the best of the runs, measured from outside the process: wall clock, or the user+system CPU time of all the process's threads (\`--clock cpu\`, chosen automatically when the machine is busy). This removes process start, firmware (SeaBIOS / Bochs BIOS and the floppy load) and exit costs. The last column is faultline's own \`--stats\` figure (instructions / wall time of its run loop, best run), for reference; it is not corrected for CPU contention."
    echo
    echo "Best times in seconds (null = the trivial kernel):"
    echo
    cat "$times"
    echo
  } >"$section"
  doc="$ROOT/docs/performance.md"
  if [ ! -f "$doc" ]; then
    printf '# Performance\n' >"$doc"
  fi
  awk -v secfile="$section" '
    function emit(  l) { while ((getline l < secfile) > 0) print l; close(secfile); done = 1 }
    /^## CPU benchmark loop[[:space:]]*$/ { emit(); skip = 1; next }
    skip && /^## / { skip = 0 }
    !skip { print; last = $0 }
    END { if (!done) { if (last != "") print ""; emit() } }
  ' "$doc" >"$W/doc.md" && cat "$W/doc.md" >"$doc"
  note "wrote the table into docs/performance.md"
fi

note "done in $(($(date +%s) - T_START)) s"
((failures == 0))
