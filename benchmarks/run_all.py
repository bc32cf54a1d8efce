"""Run every benchmark script in this folder and print their figures: `.venv/bin/python benchmarks/run_all.py`."""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
status = 0
for script in sorted(here.glob("bench_*.py")):
    print(f"\n=== {script.name} ===", flush=True)
    status |= subprocess.call([sys.executable, str(script)], cwd=here.parent)
sys.exit(status)
