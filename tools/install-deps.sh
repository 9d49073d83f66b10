#!/usr/bin/env bash
# Installs the Debian packages faultline needs to build and test.
# Idempotent and quiet when everything is already there.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3
  gcc-multilib libelf-dev libzydis-dev libcli11-dev libfmt-dev
  libseccomp-dev libsqlite3-dev protobuf-compiler libprotobuf-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev
  seabios
)
# Peers for benchmarks (only when asked: they are large).
if [[ "${FAULTLINE_WITH_PEERS:-0}" == 1 ]]; then
  PACKAGES+=(qemu-system-x86 bochs bochsbios vgabios)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) != 0 ]]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
