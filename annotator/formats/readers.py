"""Readers: plain text, CSV, doccano JSONL and Label Studio (JSON, JSON_MIN, CSV) into :class:`RawRecord`.

Readers only parse and reshape; offsets, canonical text, labels and users are checked by annotator.importing.
Each reader yields records and :class:`Problem` rows, and raises :class:`FileRejected` for a broken file.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from annotator.formats import IMPORT_FORMATS, READER_FORMATS  # noqa: F401  (re-exported)
from annotator.formats.decoding import FIELD_LIMIT
from annotator.formats.records import FileRejected, Problem, RawLink, RawRecord, RawSpan

# The origin ``source`` of spans read from Label Studio ``predictions``: exports send them back as predictions, and
# the annotation screen offers them as suggestions of engine ``import:<model_version>`` (annotator.suggestions).
PREDICTION_SOURCE = "labelstudio-prediction"

csv.field_size_limit(FIELD_LIMIT)

TEXT_COLUMNS = ("text", "body", "content", "article", "نص", "النص")
TITLE_COLUMNS = ("title", "headline", "name", "عنوان", "العنوان")
ID_COLUMNS = ("id", "doc_id", "document_id")
# Label Studio's JSON_MIN / CSV rows: fields that describe the annotation, not the task's data.
TOO_LONG_NUMBER = "a number has more than 4,300 digits (no offset or id is that long)"
LS_MIN_ANNOTATION_KEYS = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "text"}

Item = RawRecord | Problem


@dataclass
class CsvOptions:
    """Which CSV columns hold the text, title and id; ``metadata_columns`` None means all the others."""

    text_column: str | None = None
    title_column: str | None = None
    id_column: str | None = None
    metadata_columns: list[str] | None = None
    delimiter: str | None = None


@dataclass
class _Ids:
    """Per-file duplicate id check: the same id with a different text is refused."""

    seen: dict = field(default_factory=dict)

    def check(self, file: str, line: int, ext_id, text) -> Problem | None:
        if ext_id is None or ext_id == "":
            return None
        key = str(ext_id)
        first = self.seen.get(key)
        # a digest of the text, not the text: a streamed import keeps one per record, not the file
        digest = (
            hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest() if isinstance(text, str) else text
        )
        if first is None:
            self.seen[key] = (line, digest)
            return None
        if first[1] != digest:
            return Problem(file, line, f"duplicate id {key!r} (first on line {first[0]}) with a different text")
        return None


def _stem(name: str) -> str:
    return PurePosixPath(name).stem


def _short_title(text: str, words: int = 8) -> str:
    return " ".join(str(text)[: 20 * words].split()[:words])[:120]


# ---- plain text -------------------------------------------------------------------------------------------


def read_txt(name: str, text: str) -> Iterator[Item]:
    """One document per file, titled by the file name."""
    yield RawRecord(file=name, line=1, text=text, title=_stem(name), metadata={"file": name})


# ---- CSV --------------------------------------------------------------------------------------------------


def _delimiter(name: str, text: str, wanted: str | None) -> str:
    if wanted:
        return wanted
    if name.lower().endswith(".tsv"):
        return "\t"
    first = text.split("\n", 1)[0]
    return max((",", "\t", ";"), key=first.count)


def _csv_rows(name: str, text: str, delimiter: str | None = None) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(name, text, delimiter), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise FileRejected(f"{name} is empty.") from None
    except csv.Error as exc:
        raise FileRejected(f"{name}: bad CSV on line {reader.line_num}: {exc}", reader.line_num) from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise FileRejected(f"{name}: the header repeats the column(s) {', '.join(dupes)}.")

    def rows():
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                msg = str(exc)
                if "field larger than field limit" in msg:
                    msg = f"a field is larger than {FIELD_LIMIT // (1024 * 1024)} MB"
                raise FileRejected(f"{name}: bad CSV on line {start}: {msg} (check the quoting).", start) from None
            yield start, row

    return header, rows()


def csv_columns(name: str, text: str, delimiter: str | None = None) -> list[str]:
    """The header of a CSV file (for the page's column choice)."""
    return _csv_rows(name, text, delimiter)[0]


def _pick(header: list[str], wanted: str | None, candidates: tuple[str, ...], what: str, name: str, required: bool) -> str | None:
    if wanted:
        if wanted not in header:
            raise FileRejected(f"{name} has no column {wanted!r} for the {what} (columns: {', '.join(header)}).")
        return wanted
    lower = {h.lower(): h for h in header}
    for c in candidates:
        if c in lower:
            return lower[c]
    if required:
        raise FileRejected(f"{name}: choose the {what} column (columns: {', '.join(header)}).")
    return None


def is_labelstudio_csv(header: list[str]) -> bool:
    """Whether a CSV header is Label Studio's CSV export (one row per annotation), read as JSON_MIN rows."""
    return "label" in header and "annotation_id" in header and "text" in header


def read_csv(name: str, text: str, options: CsvOptions | None = None) -> Iterator[Item]:
    """One document per row: the text column, an optional title and id column, other columns as metadata."""
    options = options or CsvOptions()
    header, rows = _csv_rows(name, text, options.delimiter)
    if is_labelstudio_csv(header) and options.text_column is None:
        yield from _labelstudio_min_rows(
            name, ((line, dict(zip(header, row, strict=False))) for line, row in rows), header, csv_cells=True
        )
        return
    text_col = _pick(header, options.text_column, TEXT_COLUMNS, "text", name, True)
    title_col = _pick(header, options.title_column, TITLE_COLUMNS, "title", name, False)
    id_col = _pick(header, options.id_column, ID_COLUMNS, "id", name, False)
    meta_cols = options.metadata_columns
    if meta_cols is None:
        meta_cols = [h for h in header if h not in (text_col, title_col)]
    ids = _Ids()
    count = 0
    for line, row in rows:
        if not row or row == [""]:
            continue
        count += 1
        if len(row) != len(header):
            yield Problem(name, line, f"the row has {len(row)} fields, the header has {len(header)} (ragged row)")
            continue
        cells = dict(zip(header, row, strict=True))
        body = cells[text_col]
        ext_id = cells.get(id_col) if id_col else None
        dup = ids.check(name, line, ext_id, body)
        if dup:
            yield dup
            continue
        title = cells.get(title_col, "") if title_col else ""
        yield RawRecord(
            file=name, line=line, text=body, title=title or (str(ext_id) if ext_id else _short_title(body)), external_id=ext_id,
            metadata={c: cells[c] for c in meta_cols if c in cells and cells[c] != ""},
        )  # fmt: skip
    if count == 0:
        raise FileRejected(f"{name} has a header but no rows.")


# ---- doccano JSONL ------------------------------------------------------------------------------------------


def _json_line(name: str, line: int, raw: str, last: bool):
    try:
        return json.loads(raw)
    except RecursionError:
        return Problem(name, line, "the JSON is nested too deeply")
    except json.JSONDecodeError as exc:
        if last:
            raise FileRejected(f"{name}: the last line ({line}) is cut off ({exc.msg}); the file is incomplete.", line) from None
        return Problem(name, line, f"not valid JSON: {exc.msg} at column {exc.colno}")
    except ValueError:  # Python refuses integers over 4,300 digits (a denial-of-service guard)
        return Problem(name, line, TOO_LONG_NUMBER)


def read_jsonl(name: str, text: str, annotator: str | None = None, fallback_annotator: str | None = None) -> Iterator[Item]:
    """doccano's JSONL: ``text``; spans as ``label`` [[start, end, "LABEL"], …] or ``entities`` with
    ``relations``; ``meta`` and any other keys kept as metadata. Nisba's own JSONL export reads back the same way.

    Who made the spans: ``annotator`` when given, else the line's ``meta.annotator`` (Nisba's export), else
    ``fallback_annotator`` (doccano names each per-user file after its user).
    """
    lines = text.split("\n")
    # the last non-empty line of a file without a final newline may have been cut off in transfer
    # (isspace rather than strip: the same answer without copying every line)
    last_index = next((i for i in range(len(lines) - 1, -1, -1) if lines[i] and not lines[i].isspace()), -1)
    cut_candidate = not text.endswith("\n")
    numbered = ((i + 1, raw, cut_candidate and i == last_index) for i, raw in enumerate(lines))
    yield from _jsonl_items(name, numbered, annotator, fallback_annotator)


def stream_jsonl(
    path, annotator: str | None = None, fallback_annotator: str | None = None, name: str | None = None
) -> Iterator[Item]:
    """:func:`read_jsonl` over a UTF-8 file read line by line (a byte-order mark is skipped), so a large import
    holds one line at a time. ``path``: a file's path, or a binary file object open for reading (an upload), with
    ``name`` for messages. Raises FileRejected for bytes that are not UTF-8, naming the line."""
    name = name or PurePosixPath(str(path)).name

    def numbered():
        with open(path, "rb") if isinstance(path, str | os.PathLike) else contextlib.nullcontext(path) as fh:
            previous = None
            for line_no, data in enumerate(fh, start=1):
                if line_no == 1:
                    data = data.removeprefix(b"\xef\xbb\xbf")
                try:
                    raw = data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise FileRejected(
                        f"{name} is not valid UTF-8: byte 0x{data[exc.start]:02x} at line {line_no}.", line_no
                    ) from None
                if previous is not None:
                    yield previous
                # only the last line can lack its newline: that is the cut-off candidate
                previous = (line_no, raw.rstrip("\n").removesuffix("\r") if raw.endswith("\n") else raw, not raw.endswith("\n"))
            if previous is not None:
                yield previous

    yield from _jsonl_items(name, numbered(), annotator, fallback_annotator)


def _jsonl_items(name: str, numbered, annotator: str | None, fallback_annotator: str | None) -> Iterator[Item]:
    """Records and problems of JSONL lines given as (line number, text, may be cut off)."""
    ids = _Ids()
    found = 0
    for line, raw, cut in numbered:
        if not raw or raw.isspace():
            continue
        found += 1
        obj = _json_line(name, line, raw, cut)
        if isinstance(obj, Problem):
            yield obj
            continue
        if not isinstance(obj, dict):
            yield Problem(name, line, "the line is not a JSON object")
            continue
        item = _doccano_record(name, line, obj, annotator, fallback_annotator)
        if isinstance(item, RawRecord):
            dup = ids.check(name, line, item.external_id, item.text)
            if dup:
                yield dup
                continue
        yield item
    if found == 0:
        raise FileRejected(f"{name} is empty.")


def _doccano_record(name: str, line: int, obj: dict, annotator: str | None, fallback: str | None = None) -> Item:
    if "text" not in obj and "data" in obj:
        obj = {**obj, "text": obj["data"]}
    if not isinstance(obj.get("text"), str):
        return Problem(name, line, "no 'text' string")
    meta = obj.get("meta") if isinstance(obj.get("meta"), dict) else {}
    who = annotator or meta.get("annotator") or fallback
    layer = meta.get("layer") if meta.get("layer") in ("annotator", "gold") else "annotator"
    spans: list[RawSpan] = []
    links: list[RawLink] = []
    tuples = None
    metadata: dict = {}
    entities = obj.get("entities")
    labels = obj.get("label", obj.get("labels"))
    if isinstance(entities, list):
        for e in entities:
            if not isinstance(e, dict):
                return Problem(name, line, "an entity is not an object")
            attrs = e.get("attributes") if isinstance(e.get("attributes"), dict) else {}
            spans.append(
                RawSpan(label=e.get("label"), start=e.get("start_offset"), end=e.get("end_offset"), key=str(e.get("id")),
                        attributes=attrs, annotator=who, layer=layer, origin={"doccano_id": e.get("id")})
            )  # fmt: skip
        for r in obj.get("relations") or []:
            if not isinstance(r, dict):
                return Problem(name, line, "a relation is not an object")
            links.append(RawLink(str(r.get("from_id")), str(r.get("to_id")), r.get("type"), who, layer))
    elif isinstance(labels, list) and labels and all(isinstance(x, str) for x in labels):
        metadata["categories"] = labels  # doccano text classification: document-level labels
    elif isinstance(labels, list):
        tuples = labels
    skip = {"text", "entities", "relations", "label", "labels", "meta", "data"}
    for key, value in obj.items():
        if key not in skip and not (key == "Comments" and not value):
            metadata[key] = value
    inner = meta.get("metadata") if isinstance(meta.get("metadata"), dict) else None
    if inner is not None:  # Nisba's own export: the original metadata travels in meta.metadata
        metadata.update(inner)
    for key, value in meta.items():
        if key not in ("metadata", "annotator", "layer", "offset_unit", "title", "text_sha256", "nisba_document_id"):
            metadata[key] = value
    unit = meta.get("offset_unit") or obj.get("offset_unit")
    title = meta.get("title") or obj.get("title") or obj.get("doc_id") or obj.get("name")
    return RawRecord(
        file=name, line=line, text=obj["text"], title=str(title) if title else _short_title(obj["text"]),
        external_id=meta.get("nisba_document_id", obj.get("id")), metadata=metadata, spans=spans, links=links,
        offset_unit=unit if unit in ("codepoint", "utf16") else "auto", prefer_unit="utf16",
        label_tuples=tuples, tuple_annotator=who, tuple_layer=layer,
    )  # fmt: skip


# ---- Label Studio -------------------------------------------------------------------------------------------


def _ls_user(completed_by, fallback) -> str | None:
    if isinstance(completed_by, dict):
        return completed_by.get("email") or (f"labelstudio-user-{completed_by['id']}" if "id" in completed_by else fallback)
    if isinstance(completed_by, int) and not isinstance(completed_by, bool):
        return f"labelstudio-user-{completed_by}"
    if isinstance(completed_by, str) and completed_by:
        return completed_by
    return fallback


def _task_text(data: dict) -> tuple[str | None, str | None]:
    if isinstance(data.get("text"), str):
        return "text", data["text"]
    strings = [(k, v) for k, v in data.items() if isinstance(v, str)]
    if not strings:
        return None, None
    return max(strings, key=lambda kv: len(kv[1]))


def _ls_results(
    results, who: str | None, layer: str, origin: dict, notes: list[str]
) -> tuple[list[RawSpan], list[RawLink], dict]:
    """Spans, relations and task-level choices of one annotation's (or prediction's) ``result`` list."""
    spans: dict[str, RawSpan] = {}
    order: list[RawSpan] = []
    links: list[RawLink] = []
    choices: list[dict] = []
    task_choices: dict = {}
    for r in results or []:
        if not isinstance(r, dict):
            continue
        kind = r.get("type")
        value = r.get("value") if isinstance(r.get("value"), dict) else {}
        if kind == "labels":
            labels = value.get("labels") or []
            if len(labels) != 1:
                notes.append(
                    f"region {r.get('id')} has {len(labels)} labels; only the first is imported"
                    if labels
                    else f"region {r.get('id')} has no label"
                )
                if not labels:
                    continue
            span = RawSpan(
                label=labels[0], start=value.get("start"), end=value.get("end"), text=value.get("text"), key=r.get("id"),
                annotator=who, layer=layer, origin={**origin, "labelstudio_region": r.get("id")},
            )  # fmt: skip
            if "score" in r:
                span.origin["score"] = r["score"]
            spans[str(r.get("id"))] = span
            order.append(span)
        elif kind == "choices":
            choices.append(r)
        elif kind == "relation":
            rel_labels = r.get("labels") or []
            links.append(RawLink(str(r.get("from_id")), str(r.get("to_id")), rel_labels[0] if rel_labels else None, who, layer))
        else:
            notes.append(f"a {kind!r} result is not imported")
    for c in choices:
        values = (c.get("value") or {}).get("choices") or []
        target = spans.get(str(c.get("id")))
        name = c.get("from_name") or "choice"
        if target is None:
            task_choices[name] = values[0] if len(values) == 1 else values
            continue
        if len(values) != 1:
            notes.append(f"region {c.get('id')} has {len(values)} {name} choices; kept as one value joined by '|'")
        target.attributes[name] = "|".join(str(v) for v in values)
    return order, links, task_choices


def _load_labelstudio_tasks(name: str, text: str) -> list:
    """The JSON of a Label Studio export as a non-empty list of tasks; a broken file raises FileRejected."""
    try:
        tasks = json.loads(text)
    except RecursionError:
        raise FileRejected(f"{name}: the JSON is nested too deeply.") from None
    except json.JSONDecodeError as exc:
        raise FileRejected(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).", exc.lineno) from None
    except ValueError:
        raise FileRejected(f"{name}: {TOO_LONG_NUMBER}.") from None
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise FileRejected(f"{name}: expected a list of Label Studio tasks.")
    if not tasks:
        raise FileRejected(f"{name} holds no tasks.")
    return tasks


def _ls_annotations(task: dict, notes: list[str]) -> tuple[list[RawSpan], list[RawLink]]:
    """Spans and relations of a task's (not cancelled) ``annotations``, each with its annotator and layer."""
    spans: list[RawSpan] = []
    links: list[RawLink] = []
    for ann in task.get("annotations") or []:
        if not isinstance(ann, dict):
            continue
        if ann.get("was_cancelled"):
            notes.append(f"annotation {ann.get('id')} was cancelled (skipped) in Label Studio")
            continue
        who = ann.get("nisba_annotator") or _ls_user(ann.get("completed_by"), None)
        layer = ann.get("nisba_layer") or ("gold" if ann.get("ground_truth") else "annotator")
        origin = {"source": "labelstudio"}
        if ann.get("id") is not None:
            origin["labelstudio_annotation_id"] = ann.get("id")
        s, k, task_choices = _ls_results(ann.get("result"), who, layer, origin, notes)
        for span in s:
            if task_choices:
                span.origin["task_choices"] = task_choices
        spans += s
        links += k
    return spans, links


def _ls_predictions(predictions: list, notes: list[str]) -> tuple[list[RawSpan], list[RawLink]]:
    """Spans and relations of a task's ``predictions``, made by ``model:<model_version>``."""
    spans: list[RawSpan] = []
    links: list[RawLink] = []
    for p in predictions:
        model = p.get("model_version") or "unknown"
        origin = {"source": PREDICTION_SOURCE, "model_version": model, "prediction_score": p.get("score")}
        s, k, _tc = _ls_results(p.get("result"), f"model:{model}", "annotator", origin, notes)
        spans += s
        links += k
    return spans, links


def read_labelstudio(name: str, text: str, include_predictions: bool = True) -> Iterator[Item]:
    """Label Studio's JSON export (tasks with ``annotations`` and ``predictions``) or JSON_MIN (rows with spans).

    ``include_predictions`` False leaves the tasks' ``predictions`` out. Yields one record per task and a
    :class:`Problem` for each task that cannot be read; raises FileRejected for a broken file.
    """
    tasks = _load_labelstudio_tasks(name, text)
    if all(isinstance(t, dict) and "data" not in t and "annotations" not in t and "text" in t for t in tasks):
        yield from _labelstudio_min_rows(name, enumerate(tasks, start=1), None, csv_cells=False)
        return
    ids = _Ids()
    warned_predictions = False
    for n, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            yield Problem(name, n, "task has no 'data' object")
            continue
        data = task["data"]
        key, body = _task_text(data)
        if body is None:
            yield Problem(name, n, "task has no text in 'data'")
            continue
        task_id = task.get("id")
        dup = ids.check(name, n, task_id, body)
        if dup:
            yield dup
            continue
        notes: list[str] = []
        spans, links = _ls_annotations(task, notes)
        predictions = task.get("predictions") or []
        if predictions and include_predictions:
            if all(isinstance(p, dict) for p in predictions):
                s, k = _ls_predictions(predictions, notes)
                spans += s
                links += k
            elif not warned_predictions:
                # an export made without the snapshot lists prediction ids only: say so once per file
                warned_predictions = True
                yield Problem(
                    name,
                    None,
                    "predictions appear only as ids in this export; use Label Studio's export snapshot to bring them along",
                )
        if task.get("drafts"):
            notes.append("drafts are not imported")
        yield _ls_task_record(name, n, task, key, body, spans, links, notes)


def _ls_task_record(
    name: str, n: int, task: dict, key: str, body: str, spans: list[RawSpan], links: list[RawLink], notes: list[str]
) -> RawRecord:
    """The record of one task: its text, a title, the other ``data`` fields as metadata, and its spans and links."""
    data = task["data"]
    task_id = task.get("id")
    # the fields Nisba's own export adds to ``data`` come back as the document itself, not as metadata
    metadata = {k: v for k, v in data.items() if k not in (key, "title", "nisba_document_id", "text_sha256")}
    if task_id is not None:
        metadata["labelstudio_task_id"] = task_id
    title = data.get("title") or data.get("doc_id") or (f"task {task_id}" if task_id is not None else _short_title(body))
    return RawRecord(
        file=name, line=n, text=body, title=str(title), external_id=task_id, metadata=metadata, spans=spans,
        links=links, offset_unit="auto", prefer_unit="codepoint", notes=notes,
    )  # fmt: skip


def _labelstudio_min_rows(name: str, rows, header, *, csv_cells: bool) -> Iterator[Item]:
    """JSON_MIN / CSV: one row per annotation, merged into one record per task. Label Studio drops relations
    here and collapses per-region choices to one task-level value, so those cannot come back; each annotator's
    task-level choices stay with that annotator's spans (``origin.task_choices``), never in the document."""
    parsed: list[tuple[int, dict, str, dict, list | None]] = []
    ann_ids = _Ids()
    count = 0
    for line, row in rows:
        count += 1
        item = _min_row(name, line, row, header, csv_cells, ann_ids)
        if isinstance(item, Problem):
            yield item
        else:
            parsed.append(item)
    if count == 0:
        raise FileRejected(f"{name} has a header but no rows." if header is not None else f"{name} holds no rows.")
    choice_keys = _min_choice_keys(parsed)
    by_task: dict = {}
    order: list = []
    for line, row, key, extras, spans_value in parsed:
        task_id, body = row.get("id"), row["text"]
        data = {k: v for k, v in extras.items() if k not in choice_keys}
        rec = by_task.get(key)
        if rec is None:
            rec = RawRecord(
                file=name, line=line, text=body, title=str(data.get("title") or data.get("doc_id") or f"task {task_id}"),
                external_id=task_id, metadata={**data, "labelstudio_task_id": _maybe_int(task_id)}, offset_unit="auto",
            )  # fmt: skip
            by_task[key] = rec
            order.append(rec)
        elif rec.text != body:
            yield Problem(name, line, f"task id {task_id!r} appears with a different text")
            continue
        origin = {"source": "labelstudio-min", "labelstudio_annotation_id": _maybe_int(row.get("annotation_id"))}
        task_level = {k: v for k, v in extras.items() if k in choice_keys}
        if task_level:
            origin["task_choices"] = task_level
        who = _ls_user(_maybe_int(row.get("annotator")), None)
        for k, item in enumerate(spans_value or []):
            labels = item.get("labels") or []
            if labels:
                rec.spans.append(
                    RawSpan(label=labels[0], start=item.get("start"), end=item.get("end"), text=item.get("text"),
                            key=f"{row.get('annotation_id')}:{k}", annotator=who, origin=dict(origin))
                )  # fmt: skip
    yield Problem(
        name,
        None,
        "Label Studio's JSON_MIN/CSV export drops relations and ties choices to the task, not the region; import its JSON export to keep them",
    )
    yield from order


def _min_row(name: str, line: int, row, header, csv_cells: bool, ann_ids: _Ids):
    """One JSON_MIN / CSV row as (line, row, task key, other fields, spans), or the Problem with it."""
    if not isinstance(row, dict):
        return Problem(name, line, "the row is not an object")
    if header is not None and None in row.values():
        return Problem(name, line, "ragged row")
    body = row.get("text")
    if not isinstance(body, str):
        return Problem(name, line, "no 'text'")
    dup = ann_ids.check(name, line, row.get("annotation_id"), (row.get("id"), body))
    if dup:
        return dup
    task_id = row.get("id")
    key = str(task_id) if task_id not in (None, "") else f"line {line}"
    spans_value = None
    extras = {}
    for k, v in row.items():
        if k in LS_MIN_ANNOTATION_KEYS:
            continue
        parsed = v
        if csv_cells and isinstance(v, str) and v[:1] in ("[", "{"):
            try:
                parsed = json.loads(v)
            except (json.JSONDecodeError, RecursionError):
                parsed = v
        if isinstance(parsed, list) and parsed and all(isinstance(x, dict) and "start" in x for x in parsed):
            spans_value = parsed
        else:
            extras[k] = parsed if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed) else v
    return line, row, key, extras, spans_value


def _min_choice_keys(parsed: list) -> set[str]:
    """Which JSON_MIN / CSV fields are an annotation's choices, not the task's data (Label Studio writes both
    in one row and, in CSV, sorts the columns): a field whose value differs between two annotations of the same
    task, or that is ever a list of strings (several choices; task data in these exports is text)."""
    seen: dict[tuple[str, str], object] = {}
    keys: set[str] = set()
    for _line, _row, task, extras, _spans in parsed:
        for k, v in extras.items():
            if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
                keys.add(k)
            first = seen.setdefault((task, k), v)
            if first != v:
                keys.add(k)
    return keys


def _maybe_int(value):
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value
