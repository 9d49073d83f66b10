#!/usr/bin/env bash
# Builds faultline's Linux guest from Debian packages only:
#   bzImage            i386 Linux 6.1 (linux-source-6.1, tinyconfig + linux.config)
#   initramfs.cpio.gz  the project's static 32-bit userland (userland/*.c)
#   disk.img           BIOS-bootable raw disk: MBR + syslinux FAT partition
#                      (kernel, initramfs) + ext2 data partition
# Results are cached under a key made of the recipe files and the
# linux-source package version; unchanged inputs reuse the cached result.
#
# usage: build-linux-guest.sh [--out DIR] [--force]
#   --out DIR  write the results to DIR (default:
#              ${XDG_CACHE_HOME:-$HOME/.cache}/faultline/guests/<recipe-hash>/)
#   --force    rebuild even if DIR already holds a result for this recipe
# The last line printed on stdout is the output directory.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/faultline/guests"
OUT=""
FORCE=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "build-linux-guest: error: $*" >&2; exit 1; }
log() { echo "build-linux-guest: $*" >&2; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) [[ $# -ge 2 ]] || die "--out needs a directory"; OUT="$2"; shift 2 ;;
        --out=*) OUT="${1#--out=}"; shift ;;
        --force) FORCE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

# ---------------------------------------------------------------- packages
DEPS=(linux-source-6.1 build-essential bc bison flex libelf-dev gcc-multilib cpio
      xz-utils syslinux syslinux-common mtools dosfstools e2fsprogs fdisk)
missing=()
for p in "${DEPS[@]}"; do
    st="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    [[ "$st" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing: ${missing[*]}"
    SUDO=()
    [[ $(id -u) -eq 0 ]] || SUDO=(sudo)
    "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
        { "${SUDO[@]}" apt-get update >&2 &&
          "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2; } ||
        die "apt-get install failed"
fi

# ---------------------------------------------------------------- cache key
KVER="$(dpkg-query -W -f='${Version}' linux-source-6.1)"
RECIPE_FILES=("$HERE/build-linux-guest.sh" "$HERE/linux.config" "$HERE/syslinux.cfg"
              "$HERE"/userland/*.c "$HERE"/userland/*.h)
HASH="$( { for f in "${RECIPE_FILES[@]}"; do
             printf '%s\n' "${f#"$HERE"/}"; sha256sum < "$f"; done
           printf 'linux-source-6.1 %s\n' "$KVER"; } | sha256sum | cut -c1-16)"
[[ -n "$OUT" ]] || OUT="$CACHE_ROOT/$HASH"
ARTIFACTS=(bzImage initramfs.cpio.gz disk.img)

cached() {
    [[ -f "$OUT/.recipe-hash" && "$(cat "$OUT/.recipe-hash")" == "$HASH" ]] || return 1
    for a in "${ARTIFACTS[@]}"; do [[ -s "$OUT/$a" ]] || return 1; done
}
if [[ $FORCE -eq 0 ]] && cached; then
    log "cached result for recipe $HASH"
    echo "$OUT"
    exit 0
fi

# One build at a time per cache root (the kernel tree is shared); whoever
# waited may find the result already there.
mkdir -p "$CACHE_ROOT"
exec 9> "$CACHE_ROOT/.lock"
flock 9
if [[ $FORCE -eq 0 ]] && cached; then
    log "cached result for recipe $HASH (built by a concurrent run)"
    echo "$OUT"
    exit 0
fi

# Reproducible build metadata (uname strings, cpio mtimes).
export KBUILD_BUILD_USER=faultline KBUILD_BUILD_HOST=faultline
export KBUILD_BUILD_TIMESTAMP="2024-01-01 00:00:00 UTC" SOURCE_DATE_EPOCH=1704067200

WORK="$CACHE_ROOT/work/$HASH"
rm -rf "$WORK"
mkdir -p "$WORK" "$OUT"

# ---------------------------------------------------------------- kernel
# The extracted tree is kept per linux-source version so a recipe change
# rebuilds incrementally.
KSRC="$CACHE_ROOT/build/linux-source-$KVER"
if [[ ! -f "$KSRC/.fl-extracted" ]]; then
    log "extracting /usr/src/linux-source-6.1.tar.xz to $KSRC"
    rm -rf "$KSRC" "$KSRC.tmp"
    mkdir -p "$KSRC.tmp"
    nice -n 10 tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$KSRC.tmp" --strip-components=1
    mv "$KSRC.tmp" "$KSRC"
    touch "$KSRC/.fl-extracted"
fi

KMAKE=(nice -n 10 make -C "$KSRC" ARCH=i386)
log "configuring kernel (tinyconfig + linux.config)"
"${KMAKE[@]}" -s tinyconfig > "$WORK/tinyconfig.log" 2>&1 || { cat "$WORK/tinyconfig.log" >&2; die "tinyconfig failed"; }
(cd "$KSRC" && ARCH=i386 scripts/kconfig/merge_config.sh -m -O . .config "$HERE/linux.config") \
    > "$WORK/merge_config.log" 2>&1 || { cat "$WORK/merge_config.log" >&2; die "merge_config.sh failed"; }
"${KMAKE[@]}" -s olddefconfig >&2

# Fail loudly if an option we rely on did not survive olddefconfig.
bad=0
while IFS= read -r line; do
    case "$line" in
        CONFIG_*=*)
            sym="${line%%=*}"
            if ! grep -qx -- "$line" "$KSRC/.config"; then
                log "config: wanted $line, got: $(grep -E "^(# )?$sym[= ]" "$KSRC/.config" || echo unset)"
                bad=1
            fi ;;
        "# CONFIG_"*" is not set")
            sym="${line#\# }"; sym="${sym%% *}"
            if grep -q "^$sym=" "$KSRC/.config"; then
                log "config: wanted $sym unset, got: $(grep "^$sym=" "$KSRC/.config")"
                bad=1
            fi ;;
    esac
done < "$HERE/linux.config"
[[ $bad -eq 0 ]] || die "kernel configuration does not match linux.config (see above)"
cp "$KSRC/.config" "$WORK/linux.config.full"

log "building bzImage (nice -n 10 make -j2; a few minutes on 2 cores)"
"${KMAKE[@]}" -j2 bzImage >&2
cp "$KSRC/arch/x86/boot/bzImage" "$WORK/bzImage"

# ---------------------------------------------------------------- initramfs
log "building userland"
gcc -m32 -static -O2 -march=i686 -s -Wall -Wextra -Werror \
    -o "$WORK/flbox" "$HERE"/userland/*.c
touch -d "@$SOURCE_DATE_EPOCH" "$WORK/flbox"   # gen_init_cpio keeps file mtimes
gcc -O2 -o "$WORK/gen_init_cpio" "$KSRC/usr/gen_init_cpio.c"
cat > "$WORK/initramfs.list" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/null 0666 0 0 c 1 3
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /mnt 0755 0 0
dir /tmp 1777 0 0
dir /bin 0755 0 0
file /init $WORK/flbox 0755 0 0
EOF
for applet in shell checksum sort filerw forkexec true; do
    echo "slink /bin/$applet /init 0777 0 0" >> "$WORK/initramfs.list"
done
"$WORK/gen_init_cpio" -t "$SOURCE_DATE_EPOCH" "$WORK/initramfs.list" > "$WORK/initramfs.cpio"
gzip -9 -n -c "$WORK/initramfs.cpio" > "$WORK/initramfs.cpio.gz"

# ---------------------------------------------------------------- disk image
# Layout (512-byte sectors): MBR | gap to 1 MiB | p1 FAT16 16 MiB, bootable,
# syslinux | p2 ext2 8 MiB (data for the filerw workload). Nothing is mounted.
log "building disk.img"
IMG="$WORK/disk.img"
P1_START=2048; P1_SECTORS=$((16 * 2048))
P2_START=$((P1_START + P1_SECTORS)); P2_SECTORS=$((8 * 2048))
TOTAL=$((P2_START + P2_SECTORS))
truncate -s $((TOTAL * 512)) "$IMG"
sfdisk --quiet --no-reread --no-tell-kernel "$IMG" >&2 <<EOF
label: dos
label-id: 0x666c7400
unit: sectors
start=$P1_START, size=$P1_SECTORS, type=6, bootable
start=$P2_START, size=$P2_SECTORS, type=83
EOF
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$IMG" bs=440 count=1 conv=notrunc status=none

FAT_OFF=$((P1_START * 512))
# (mkfs.fat warns that the image is larger than the file system: expected)
mkfs.fat --invariant -F 16 -n FLBOOT -i 666c7401 --offset "$P1_START" "$IMG" $((P1_SECTORS / 2)) \
    > "$WORK/mkfs.fat.log" 2>&1 || { cat "$WORK/mkfs.fat.log" >&2; die "mkfs.fat failed"; }
syslinux --install --offset "$FAT_OFF" "$IMG"
export MTOOLS_SKIP_CHECK=1
# Pinned file times (mcopy -m keeps the source's mtime) keep the image reproducible.
cp "$HERE/syslinux.cfg" "$WORK/syslinux.cfg"
cp "$WORK/initramfs.cpio.gz" "$WORK/initrd.gz"
touch -d "@$SOURCE_DATE_EPOCH" "$WORK/syslinux.cfg" "$WORK/bzImage" "$WORK/initrd.gz"
mcopy -m -i "$IMG@@$FAT_OFF" "$WORK/syslinux.cfg" ::syslinux.cfg
mcopy -m -i "$IMG@@$FAT_OFF" "$WORK/bzImage" ::bzImage
mcopy -m -i "$IMG@@$FAT_OFF" "$WORK/initrd.gz" ::initrd.gz

mkdir -p "$WORK/ext2-root"
echo "faultline data partition (filerw writes filerw.dat here)" > "$WORK/ext2-root/README"
touch -d "@$SOURCE_DATE_EPOCH" "$WORK/ext2-root/README" "$WORK/ext2-root"
E2FSPROGS_FAKE_TIME="$SOURCE_DATE_EPOCH" mke2fs -q -F -t ext2 -b 1024 -m 0 -L fldata \
    -U 666c7402-0000-4000-8000-000000000000 -E root_owner=0:0,hash_seed=666c7403-0000-4000-8000-000000000000 \
    -d "$WORK/ext2-root" "$WORK/ext2.img" $((P2_SECTORS / 2)) >&2
# mke2fs -d copies the host file's ctime, which cannot be pinned on the host.
debugfs -w -R "sif /README ctime 20240101000000" "$WORK/ext2.img" > /dev/null 2>&1 ||
    die "debugfs could not pin the README ctime"
dd if="$WORK/ext2.img" of="$IMG" bs=512 seek="$P2_START" conv=notrunc status=none

# ---------------------------------------------------------------- publish
sed -i "s|$WORK/flbox|userland/ (flbox)|" "$WORK/initramfs.list"   # the work dir is removed below
for a in "${ARTIFACTS[@]}" linux.config.full initramfs.list; do
    cp "$WORK/$a" "$OUT/$a.tmp" && mv "$OUT/$a.tmp" "$OUT/$a"
done
{
    echo "recipe-hash $HASH"
    echo "linux-source-6.1 $KVER"
    (cd "$OUT" && sha256sum "${ARTIFACTS[@]}")
} > "$OUT/MANIFEST"
echo "$HASH" > "$OUT/.recipe-hash"
rm -rf "$WORK"
log "done: $(cd "$OUT" && ls -l "${ARTIFACTS[@]}" | awk '{printf "%s %s bytes; ", $9, $5}')"
echo "$OUT"
