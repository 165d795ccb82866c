#!/usr/bin/env bash
# Makes sure the system tools the test suite drives are installed: Chromium (the dashboard's browser
# test, through playwright-core) and redis-server (the fault tests crash and restart a private Redis).
# Installs them from Debian's packages when run as root on Debian/Ubuntu; otherwise says exactly how.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -eq 0 ]; then echo "test tools: chromium and redis-server present"; exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "test tools: installing ${missing[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
cat >&2 <<MSG
test tools: missing ${missing[*]}.
  Debian/Ubuntu:  sudo apt-get install -y ${missing[*]}
  macOS:          brew install --cask chromium; brew install redis   (then CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium)
MSG
exit 1
