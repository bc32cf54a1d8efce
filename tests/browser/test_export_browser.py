"""The export page in real headless Chromium: the spans CSV and workbook are one click each, and what arrives
reads back (pandas, openpyxl) with the Arabic intact."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from annotator.annotations import add_span

from .conftest import log_in, server_store, wait_ready

pytestmark = pytest.mark.browser


@pytest.fixture
def tagged(app_db, doc_ids):
    """One QUOTE on the demo article, so the spans table has a row to read back."""
    with server_store(app_db) as store:
        doc = store.get_document(doc_ids["demo"])
        start = doc.text.index("ماركو روبيو")
        return add_span(store, store.user_by_username("badr"), doc.id, "SOURCE", start, start + len("ماركو روبيو"))


def download(page, label: str) -> bytes:
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name=label).click()
    return open(info.value.path(), "rb").read()


def test_spans_csv_and_workbook_in_one_click(page, base_url, tagged):
    log_in(page, base_url, "admin")
    page.goto(base_url + "/export_data")
    wait_ready(page)
    data = download(page, "Download spans CSV (Excel-ready)")
    assert data.startswith(b"\xef\xbb\xbf")  # Excel-ready: the BOM
    df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    row = df[df["span_id"] == str(tagged.id)].iloc[0]
    assert (row["label"], row["text"], row["annotator"]) == ("SOURCE", "ماركو روبيو", "badr")
    wait_ready(page)
    ws = openpyxl.load_workbook(io.BytesIO(download(page, "Download spans workbook (.xlsx)"))).active
    assert ws.sheet_view.rightToLeft is True
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    mine = next(r for r in rows[1:] if r[header.index("span_id")] == tagged.id)
    assert mine[header.index("text")] == "ماركو روبيو"
