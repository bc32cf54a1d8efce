#!/usr/bin/env bash
# Set up (virtualenv + pinned test requirements, Debian Chromium for the browser tests) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Another apt run (unattended upgrades, a second CI job) holds the dpkg lock for a while: wait up to 10 minutes
# for it instead of failing at once with exit 100.
APT_WAIT="-o DPkg::Lock::Timeout=600"
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
if ! [ -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get $APT_WAIT update -qq && DEBIAN_FRONTEND=noninteractive apt-get $APT_WAIT install -y -qq chromium chromium-driver >/dev/null
  elif command -v sudo >/dev/null; then
    sudo apt-get $APT_WAIT update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get $APT_WAIT install -y -qq chromium chromium-driver >/dev/null
  else
    echo "Browser tests need Debian's chromium: apt-get install chromium chromium-driver" >&2
  fi
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
exec .venv/bin/python -m pytest "$@"
