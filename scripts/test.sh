#!/usr/bin/env bash
# Set up (virtualenv + pinned test requirements; Debian's Chromium for the browser tests and Debian's PostgreSQL,
# whose binaries the PostgreSQL tests use to start a throwaway server of their own) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Another apt run (unattended upgrades, a second CI job) holds the dpkg lock for a while: wait up to 10 minutes
# for it instead of failing at once with exit 100.
APT_WAIT="-o DPkg::Lock::Timeout=600"
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}

# apt_install WHY PACKAGE...: install Debian packages as root or through sudo; without either, print WHY.
apt_install() {
  local why=$1 sudo=""
  shift
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "$why: apt-get install $*" >&2
      return 0
    fi
    sudo=sudo
  fi
  $sudo apt-get $APT_WAIT update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get $APT_WAIT install -y -qq "$@" >/dev/null
}

[ -x /usr/bin/chromium ] || apt_install "Browser tests need Debian's chromium (skipped without it)" chromium chromium-driver
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null ||
  apt_install "PostgreSQL tests need Debian's postgresql (skipped without it)" postgresql
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
exec .venv/bin/python -m pytest "$@"
