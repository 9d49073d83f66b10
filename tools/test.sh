#!/usr/bin/env bash
# Builds faultline (dev preset) and runs the whole test suite with ctest.
# Usage: tools/test.sh [extra ctest arguments, e.g. -L unit]
# The Linux boot tests need the project's Linux guest; it is built from
# Debian packages and cached (experiments/guests/build-linux-guest.sh, about
# 3-10 minutes the first time). FAULTLINE_LINUX_GUEST=0 skips building it
# (those tests then report "skipped").
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j"$(nproc)"
if [[ "${FAULTLINE_LINUX_GUEST:-1}" != 0 && -z "${FAULTLINE_LINUX_GUEST_DIR:-}" ]]; then
  if dir=$(nice -n 5 experiments/guests/build-linux-guest.sh | tail -n 1) && [[ -f "$dir/bzImage" ]]; then
    export FAULTLINE_LINUX_GUEST_DIR="$dir"
    echo "test: Linux guest in $dir"
  else
    echo "test: WARNING: building the Linux guest failed; the linux.* boot tests will be skipped" >&2
  fi
fi
ctest --preset dev -j"$(nproc)" --timeout 1800 "$@"
