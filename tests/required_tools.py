"""What a test does when a tool it needs (Chromium, a PostgreSQL server) is missing: fail on CI, skip elsewhere."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(reason: str) -> NoReturn:
    """Fail the test under ``CI=true`` (CI must run every test), skip it with ``reason`` otherwise."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required on CI: {reason}", pytrace=False)
    pytest.skip(reason)
