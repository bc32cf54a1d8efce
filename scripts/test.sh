#!/usr/bin/env bash
# Set up (virtualenv + pinned test requirements) and run the whole test suite, browser tests included.
# Browser tests use Debian's Chromium at /usr/bin/chromium (apt-get install chromium chromium-driver).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
exec .venv/bin/python -m pytest "$@"
