"""The first visit after the server starts, straight to a page's address (a bookmarked /review, a tab that
reloads after a restart), still runs app.py: its navigation, the signed-in sidebar, the role's pages.

Streamlit decides once per process whether an app with a ``pages/`` folder is an old-style (v1) multipage app
and, until app.py calls ``st.navigation``, ran the requested page file without app.py. serve.py settles it.
"""

from __future__ import annotations

import pytest

from annotator.demo import ensure_demo
from annotator.store import Store

from .conftest import log_in_over_http, running_app, wait_ready

pytestmark = pytest.mark.browser


@pytest.fixture
def fresh_server(tmp_path):
    """A server that no browser has talked to yet (the session-wide one has served many)."""
    store = Store(tmp_path / "fresh.db")
    ensure_demo(store)
    store.close()
    with running_app(tmp_path / "fresh.db", tmp_path / "streamlit.log") as base_url:
        yield base_url


def test_first_visit_to_a_page_address_runs_the_app_navigation(page, fresh_server):
    # log in over HTTP only: no app page is opened before the one under test
    log_in_over_http(page, fresh_server, "rana")
    page.goto(fresh_server + "/agreement")
    wait_ready(page)
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Agreement" in nav and "Review" in nav
    assert "Users" not in nav and "audit" not in nav.lower()  # a reviewer's pages, not the whole folder
    assert "Signed in as" in page.locator('[data-testid="stSidebar"]').inner_text()


def test_the_first_page_load_preloads_what_it_draws_and_every_hint_loads(page, fresh_server):
    # The gate's preload hints name the article component's files before any script has registered them; a hint
    # that fetched a 404 would break the component's import for the whole page (the browser keeps the failure).
    broken = []
    page.on("response", lambda r: broken.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: broken.append(f"{r.failure} {r.url}") if "favicon" not in r.url else None)
    log_in_over_http(page, fresh_server, "amal")
    response = page.goto(fresh_server + "/")
    html = response.text()
    assert '<link rel="modulepreload" href="./_stcore/bidi-components/nisba.article/article.js">' in html
    assert 'href="./static/js/BidiComponent.' in html
    page.wait_for_selector('[data-nisba="article"][data-ready="1"]', timeout=30_000)
    assert page.locator('[data-nisba="article"]').inner_text().strip()  # the article drew its text
    assert broken == []
