"""Shared fixtures: a real SQLite file in tmp_path, the demo project, its users, the tricky texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotator.demo import ensure_demo
from annotator.store import Store

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def store(tmp_path) -> Store:
    """An empty, migrated database file."""
    s = Store(tmp_path / "nisba.db")
    yield s
    s.close()


@pytest.fixture
def demo(tmp_path) -> Store:
    """A database holding the demo project (article, default labels, demo users)."""
    s = Store(tmp_path / "demo.db")
    ensure_demo(s)
    yield s
    s.close()


@pytest.fixture
def app_db(tmp_path, monkeypatch) -> Store:
    """The demo database behind the app for AppTest (``NISBA_DB`` points at it; no secret file override),
    with the demo users by username as ``.users``."""
    path = tmp_path / "app.db"
    monkeypatch.setenv("NISBA_DB", str(path))
    monkeypatch.delenv("NISBA_SECRET_FILE", raising=False)
    s = Store(path)
    ensure_demo(s)
    s.users = {u.username: u for u in s.list_users()}
    yield s
    s.close()


@pytest.fixture
def users(demo) -> dict:
    """The demo users by username: admin, amal and badr (annotators), rana (reviewer)."""
    return {u.username: u for u in demo.list_users()}


@pytest.fixture
def demo_doc(demo):
    return demo.list_documents(demo.list_projects()[0].id)[0]


def load_tricky() -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / "tricky.ar.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def tricky() -> dict[str, dict]:
    """The hard cases of tricky.ar.jsonl by id."""
    return {case["id"]: case for case in load_tricky()}
