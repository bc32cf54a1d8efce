"""What every import reader produces: records (a document with its spans and links, as found in the file)
and problems (a rejected row or file, with where and why)."""

from __future__ import annotations

from dataclasses import dataclass, field

from annotator.errors import NisbaError


@dataclass(slots=True)
class RawSpan:
    """A span as the file has it: offsets in the file's own unit, over the file's own (raw) text."""

    label: str
    start: object
    end: object
    text: str | None = None  # the span's text when the file carries it (Label Studio does, doccano does not)
    key: str | None = None  # the id relations refer to
    attributes: dict = field(default_factory=dict)
    annotator: str | None = None  # None: the import's annotator
    layer: str = "annotator"
    origin: dict = field(default_factory=dict)


@dataclass(slots=True)
class RawLink:
    from_key: str
    to_key: str
    type: str | None  # None: inferred from the label kinds
    annotator: str | None = None
    layer: str = "annotator"


@dataclass
class RawRecord:
    """One document of a file (a line, a row, a task), before canonicalisation and checks."""

    file: str
    line: int  # 1-based line, row or task number, for messages
    text: object
    title: str = ""
    external_id: object = None
    metadata: dict = field(default_factory=dict)
    spans: list[RawSpan] = field(default_factory=list)
    links: list[RawLink] = field(default_factory=list)
    # "codepoint", "utf16" or "auto"; with "auto", spans without text fall back to ``prefer_unit`` when the
    # text alone cannot tell (doccano's editor writes UTF-16 units, Nisba and Label Studio code points).
    offset_unit: str = "auto"
    prefer_unit: str = "codepoint"
    notes: list[str] = field(default_factory=list)
    # doccano's [[start, end, "LABEL"], …] as found, checked and turned into spans by annotator.importing
    # (kept raw because building an object per span dominated large imports)
    label_tuples: list | None = None
    tuple_annotator: str | None = None
    tuple_layer: str = "annotator"


@dataclass(frozen=True)
class Problem:
    """A rejected row (``line`` set) or file (``line`` None), or a warning, with its reason."""

    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line is not None else "")
        return f"{where}: {self.reason}"


class FileRejected(NisbaError):
    """A whole file cannot be imported (encoding, size, truncation, structure)."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line
