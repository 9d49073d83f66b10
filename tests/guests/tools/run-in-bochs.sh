#!/bin/sh
# Run built guest kernels under Bochs (IA-32 emulator) as a second opinion
# on the checks QEMU's TCG cannot make (segment limits, #AC, icebp, x87
# status details...).  Bochs cannot load multiboot ELF files, so each kernel
# is put on a floppy image behind tools/bochs/boot.S.  Bochs has no exit
# device: the result is read from the console text ("PASS" / "FAIL").
#
# Usage: tools/run-in-bochs.sh KERNEL_DIR [NAME...]
# Needs: bochs, bochsbios, vgabios, gcc, binutils, python3.  TIMEOUT (default
# 300 s) per kernel; the two 500 M-instruction bench kernels take a while.
# VERBOSE=1 shows the guests' console output.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=$1
shift
timeout_s=${TIMEOUT:-300}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gcc -m32 -nostdlib -c -o "$work/boot.o" "$here/bochs/boot.S" || exit 2
ld -m elf_i386 -Ttext 0x7C00 --oformat binary -e start -o "$work/boot.bin" "$work/boot.o" || exit 2

if [ $# -gt 0 ]; then names="$*"; else names=$(cd "$dir" && ls *.elf | sed 's/\.elf$//'); fi
echo c > "$work/cont"
pass=0
fail=0
for k in $names; do
    objcopy -O binary "$dir/$k.elf" "$work/k.bin"
    size=$(stat -c %s "$work/k.bin")
    nsect=$(( (size + 511) / 512 ))
    python3 - "$work/boot.bin" "$work/k.bin" "$work/floppy.img" "$nsect" <<'PY'
import sys
boot = bytearray(open(sys.argv[1], 'rb').read())
kern = open(sys.argv[2], 'rb').read()
n = int(sys.argv[4])
boot[508:510] = n.to_bytes(2, 'little')
img = bytes(boot) + kern
img += bytes(1474560 - len(img))
open(sys.argv[3], 'wb').write(img)
PY
    cat > "$work/rc" <<RC
megs: 32
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
display_library: rfb, options="timeout=0"
sound: driver=dummy
speaker: enabled=0
port_e9_hack: enabled=1
floppya: 1_44=$work/floppy.img, status=inserted
boot: floppy
log: $work/bochs.log
clock: sync=none
cpu: model=p2_klamath
RC
    : > "$work/out"
    timeout "$timeout_s" bochs -q -f "$work/rc" -rc "$work/cont" > "$work/out" 2>&1 < /dev/null &
    bpid=$!
    result=""
    while kill -0 $bpid 2>/dev/null; do
        if grep -aq '^PASS$' "$work/out"; then result=PASS; break; fi
        if grep -aq '^FAIL' "$work/out"; then result=FAIL; break; fi
        sleep 0.5
    done
    kill -9 $bpid 2>/dev/null
    wait $bpid 2>/dev/null
    [ -z "$result" ] && result="FAIL (no result)"
    echo "$result  $k"
    if [ "$result" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
    if [ "$result" != PASS ] || [ "${VERBOSE:-0}" = 1 ]; then
        grep -a '^  \|^[a-z#]' "$work/out" | grep -av '^[0-9]' | sed 's/^/    | /'
        grep -a 'PANIC\|ERROR' "$work/bochs.log" | head -5 | sed 's/^/    | /'
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
