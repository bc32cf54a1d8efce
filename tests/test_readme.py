"""The README's commands are the ones that work after the quick start: the command line through the virtualenv
the quick start made, every subcommand named there known to the parser, the quick start's two scripts present."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from annotator.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
CLI_LINES = [line for block in BLOCKS for line in block.splitlines() if "-m annotator" in line]


def test_command_lines_run_through_the_quick_starts_virtualenv():
    assert CLI_LINES
    assert [line for line in CLI_LINES if not line.startswith(".venv/bin/python -m annotator ")] == []


def test_the_quick_start_scripts_exist():
    assert "bash scripts/run.sh" in BLOCKS[0] and "bash scripts/test.sh" in BLOCKS[0]
    assert (ROOT / "scripts/run.sh").exists() and (ROOT / "scripts/test.sh").exists()


@pytest.mark.parametrize("line", CLI_LINES)
def test_every_readme_subcommand_is_known(line, capsys):
    words = [w for w in shlex.split(line.split("#", 1)[0])[3:] if not w.startswith(("-", "["))]
    command = words[:2] if words and words[0] in ("users", "audit", "suggest", "search-index") else words[:1]
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*command, "--help"])
    assert done.value.code == 0, line
