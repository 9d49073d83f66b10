#!/usr/bin/env bash
# Screenshots of faultline-gui for the README, taken under Xvfb (a real X
# server, the xcb platform plugin; not Qt's offscreen platform):
#   docs/images/gui-linux-shell.png      the Linux guest booted to its shell
#                                        on the VGA console, a command typed
#   docs/images/gui-campaign-monitor.png the campaign monitor on a database
#                                        `faultline campaign run` wrote
#   docs/images/gui-golden-vs-faulty.png the checksum kernel forked, a bit
#                                        of its buffer flipped in one copy,
#                                        run in lockstep to the divergence
#
#   tools/gui-screenshots.sh [BUILD_DIR]     (default build/dev)
#
# The Linux guest comes from FAULTLINE_LINUX_GUEST_DIR (default: the cached
# guest of experiments/guests). Installs xvfb, xauth and x11-utils with
# apt-get when they are missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/dev}
guest=${FAULTLINE_LINUX_GUEST_DIR:-/root/.cache/faultline/guests/cdfaed70fdb78773}
out=$root/docs/images
gui=$build/gui/faultline-gui
cli=$build/experiments/faultline

for f in "$gui" "$cli"; do
  [[ -x $f ]] || { echo "gui-screenshots: $f missing (build faultline-gui and faultline first)" >&2; exit 1; }
done
for f in bzImage initramfs.cpio.gz; do
  [[ -f $guest/$f ]] || { echo "gui-screenshots: $guest/$f missing (set FAULTLINE_LINUX_GUEST_DIR)" >&2; exit 1; }
done

missing=()
for p in xvfb xauth x11-utils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "gui-screenshots: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) == 0 ]] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export QT_QPA_PLATFORM=xcb
xvfb=(xvfb-run -a -s "-screen 0 1600x1000x24")

echo "gui-screenshots: Linux guest, shell on the VGA console"
"${xvfb[@]}" "$gui" --linux "$guest/bzImage" --initrd "$guest/initramfs.cpio.gz" \
  --append "console=ttyS0 console=tty0 fl.shell=1" \
  --wait-screen 'fl$' --type 'echo hello from the faultline gui\n' --then-wait-screen 'fl$' \
  --print-screen --screenshot "$out/gui-linux-shell.png" --timeout-ms 300000 >"$tmp/screen.txt"
grep -q '^hello from the faultline gui' "$tmp/screen.txt" ||
  { echo "gui-screenshots: the command's output is not on the screen:" >&2; cat "$tmp/screen.txt" >&2; exit 1; }

echo "gui-screenshots: campaign monitor"
"$cli" campaign run "$root/experiments/examples/memory_bitflips_checksum.textproto" \
  --samples 200 --workers 2 --db "$tmp/campaign.db" --quiet
"${xvfb[@]}" "$gui" --campaign "$tmp/campaign.db" --screenshot-after-ms 1500 "$out/gui-campaign-monitor.png"

echo "gui-screenshots: golden vs faulty"
"${xvfb[@]}" "$gui" --kernel "$build/tests/guests/checksum.elf" --compare-at 200000 \
  --compare-flip data_buffer+0x3000:5 --screenshot "$out/gui-golden-vs-faulty.png"

ls -l "$out"/gui-*.png
