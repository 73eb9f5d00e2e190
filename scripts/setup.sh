#!/usr/bin/env bash
# Sets up this checkout on a fresh Debian 12 machine (as root, or with sudo) or refreshes an existing one:
# the Debian packages the engines need, a virtual environment in .venv, and the package with its extras.
# Safe to run again: it installs only what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# strace: tests/test_store_durability.py proves payments are fsynced before they are confirmed.
# chromium, chromium-driver: the kiosk screen's browser; both browser tests (the staff report, the kiosk
# screen) drive it through Selenium. fonts-nanum: Korean text on the screen. pulseaudio, pulseaudio-utils:
# the kiosk's sound server (its test plays and records through it).
DEBIAN_PACKAGES=(python3 python3-venv python3-pip espeak-ng libportaudio2 sox libsox-fmt-all baresip strace
                 chromium chromium-driver fonts-nanum pulseaudio pulseaudio-utils)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  $PYTHON -m venv .venv
fi
# Reinstall only when the project's dependencies changed.
stamp=.venv/.voice-agent-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages into .venv (first time takes a minute)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[ko,dev,sip]'
  echo "$want" > "$stamp"
fi
