#!/usr/bin/env bash
# Set up (virtualenv + pinned requirements) and start Nisba on its default database (data/nisba.db or $NISBA_DB).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
# Create or migrate the database now (with the demo project unless NISBA_DEMO=0), so the file exists from the start.
if [ "${NISBA_DEMO:-1}" = 0 ]; then .venv/bin/python -m annotator init; else .venv/bin/python -m annotator init --demo; fi
# serve.py runs app.py through st.App behind the login gate (annotator/ui/gate.py).
exec .venv/bin/streamlit run serve.py "$@"
