"""The agreement heatmap in real headless Chromium: drawn at its own size, with no Vega warning in the console."""

from __future__ import annotations

import pytest

from annotator.annotations import add_span
from annotator.demo import ensure_demo
from annotator.store import Store

from .conftest import log_in_over_http, running_app, wait_ready

pytestmark = pytest.mark.browser


@pytest.fixture
def two_layers_server(tmp_path):
    """A server whose demo article carries amal's and badr's layers (one span agreed, one not)."""
    store = Store(tmp_path / "agree.db")
    ensure_demo(store)
    doc = store.list_documents(store.list_projects()[0].id)[0]
    s = doc.text.index("ماركو روبيو")
    for name in ("amal", "badr"):
        add_span(store, store.user_by_username(name), doc.id, "SOURCE", s, s + 11)
    add_span(store, store.user_by_username("amal"), doc.id, "CUE", 0, 4)
    store.close()
    with running_app(tmp_path / "agree.db", tmp_path / "streamlit.log") as base_url:
        yield base_url


def test_heatmap_draws_without_a_vega_warning(page, two_layers_server):
    base_url = two_layers_server
    messages = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    log_in_over_http(page, base_url, "rana")
    page.goto(base_url + "/agreement")
    wait_ready(page)
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.locator("canvas, svg").first.wait_for()
    page.wait_for_timeout(500)  # Vega logs its warnings while it lays the chart out
    assert not [m for m in messages if "Dropping" in m or "fit-" in m], messages
    box = chart.bounding_box()
    assert box["width"] < 500  # one pair of annotators: a small square, not a strip across the column
