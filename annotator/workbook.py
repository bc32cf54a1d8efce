"""The Excel workbook (.xlsx) of the spans export, written with openpyxl in write-only mode.

Imported only when a workbook is made: openpyxl costs about 0.5 s to import (``python -X importtime``),
which ``python -m annotator --help`` and the app's other pages should not pay.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError

from annotator.errors import NisbaError

# Width in characters of the columns that hold Arabic text; the others get a width from their header.
TEXT_WIDTHS = {"text": 60, "context_before": 40, "context_after": 40, "document_title": 32, "source_text": 30, "cue_text": 20}
EXCEL_CELL_LIMIT = 32_767  # characters; Excel cuts a longer cell when it opens the file


class WorkbookError(NisbaError):
    """A cell that a workbook cannot hold as it is (too long, or a character XML forbids)."""


def spans_workbook(header: list[str], rows: Iterable[list], out: IO[bytes], *, title: str = "spans") -> None:
    """Write ``header`` and ``rows`` (cells already neutralised by the export) as one sheet to ``out``.

    The sheet reads right to left, its header row is frozen and bold, the Arabic text columns are wide and
    every other column as wide as its header. A cell is never stored as a formula: openpyxl would store a
    string that starts with ``=`` as one, and the export's rows reach here with such cells prefixed by ``'``.
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(title))
    ws.sheet_view.rightToLeft = True
    ws.freeze_panes = "A2"
    for i, name in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(i)].width = TEXT_WIDTHS.get(name, max(10, len(str(name)) + 2))
    bold = Font(bold=True)
    head = []
    for name in header:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        head.append(cell)
    ws.append(head)
    try:
        for n, row in enumerate(rows, start=2):
            _append(ws, row, n)
    except BaseException:
        with contextlib.suppress(Exception):  # finish the half-written sheet's temp file; the first error is the news
            ws.close()
        raise
    wb.save(out)


def _append(ws, row: list, n: int) -> None:
    for cell in row:
        if isinstance(cell, str) and (len(cell) > EXCEL_CELL_LIMIT or cell[:1] == "="):
            _refuse(row, n, cell)
    try:
        ws.append(row)
    except IllegalCharacterError:
        raise WorkbookError(
            f"Row {n} of the workbook holds a control character Excel cannot store; export CSV instead."
        ) from None


def _refuse(row: list, n: int, cell: str) -> None:
    if cell[:1] == "=":  # the export neutralises every text cell; reaching here is a bug, never a formula
        raise WorkbookError(f"Row {n}: a cell would be stored as a formula ({cell[:20]!r}).")
    raise WorkbookError(
        f"Row {n} (span {row[4] if len(row) > 4 else '?'}): a cell of {len(cell):,} characters is longer than Excel's "
        f"{EXCEL_CELL_LIMIT:,}; export CSV for it."
    )


def _sheet_title(name: str) -> str:
    """A sheet title Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in name).strip("'") or "spans"
    return cleaned[:31]
