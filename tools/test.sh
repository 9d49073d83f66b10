#!/usr/bin/env bash
# Builds faultline (dev preset) and runs the whole test suite with ctest.
# Usage: tools/test.sh [extra ctest arguments, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j"$(nproc)"
ctest --preset dev -j"$(nproc)" --timeout 900 "$@"
