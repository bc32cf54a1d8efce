"""Turning an uploaded file into text, or refusing it with a reason: size, name, encoding, NUL bytes, zips.

Only UTF-8 (with or without BOM) and UTF-16/UTF-32 with a BOM are detected. Anything else (Windows-1256 is
common for Arabic CSVs) is refused with a message naming the ``encoding`` option, never decoded as Latin-1
into mojibake.
"""

from __future__ import annotations

import codecs
import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from annotator.formats import MAX_FILE_BYTES  # noqa: F401  (re-exported: the importers' limit)
from annotator.formats.records import FileRejected

FIELD_LIMIT = 10 * 1024 * 1024  # one text, cell or JSON value
ENCODING_HINT = "Save it as UTF-8, or name its encoding with the encoding option (command line: --encoding cp1256)."


@dataclass(frozen=True)
class ImportFile:
    """An uploaded or named file: its name (no directories) and its bytes."""

    name: str
    data: bytes


def check_name(name: str) -> str:
    """Refuse file names that carry a path (``../``, ``/``, ``\\``, drive letters) or control characters."""
    if not name or name in (".", ".."):
        raise FileRejected(f"The file name {name!r} is empty.")
    if any(ord(c) < 32 for c in name):
        raise FileRejected(f"The file name {name!r} contains control characters.")
    if "/" in name or "\\" in name or ".." in PurePosixPath(name).parts or PureWindowsPath(name).drive:
        raise FileRejected(f"The file name {name!r} contains a path (like '../'); upload files by their plain name.")
    return name


def check_size(name: str, size: int, limit: int = MAX_FILE_BYTES) -> None:
    """FileRejected when ``size`` (bytes) is over ``limit``, naming the file and both sizes in MB."""
    if size > limit:
        raise FileRejected(f"{name} is {size / 1e6:.1f} MB, over the import limit of {limit / 1e6:.0f} MB; split it.")


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _guess(data: bytes) -> str:
    sample = data[:65536]
    if sample.count(b"\x00") > len(sample) // 4:
        return " It looks like UTF-16 without a byte-order mark."
    try:
        text = sample.decode("cp1256")
    except UnicodeDecodeError:
        return ""
    arabic = sum(1 for c in text if "\u0600" <= c <= "\u06ff")
    if arabic > len(text) // 10:
        return " It looks like Windows-1256 (Arabic)."
    return ""


def decode(name: str, data: bytes, encoding: str | None = None) -> str:
    """The text of a file. BOMs decide UTF-8/16/32; otherwise strict UTF-8, or ``encoding`` when given.

    Raises :class:`FileRejected` for an empty file, undecodable bytes (naming the byte, its line and the
    encoding option), or NUL characters.
    """
    if not data or data.isspace():  # what `not data.strip()` says, without copying a large file
        raise FileRejected(f"{name} is empty.")
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise FileRejected(f"Unknown encoding {encoding!r}.") from None
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise FileRejected(
                f"{name} is not valid {encoding}: byte 0x{data[exc.start]:02x} at line {_line_of(data, exc.start)}."
            ) from None
        text = text.removeprefix("\ufeff")
    else:
        for bom, codec in (
            (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
            (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
        ):  # fmt: skip
            if data.startswith(bom):
                try:
                    text = data.decode(codec)
                except UnicodeDecodeError as exc:
                    raise FileRejected(
                        f"{name} starts with a {codec} byte-order mark but is not valid {codec} (byte {exc.start})."
                    ) from None
                text = text.removeprefix("\ufeff")
                break
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FileRejected(
                    f"{name} is not UTF-8 (byte 0x{data[exc.start]:02x} at line {_line_of(data, exc.start)}).{_guess(data)} {ENCODING_HINT}"
                ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise FileRejected(
            f"{name} contains a NUL byte at line {text.count(chr(10), 0, nul) + 1}; it is binary, or UTF-16 without a byte-order mark."
        )
    if not text or text.isspace():
        raise FileRejected(f"{name} is empty.")
    return text


def unzip(file: ImportFile, limit: int = MAX_FILE_BYTES) -> list[ImportFile]:
    """The members of a zip (doccano exports one ``<user>.jsonl`` per annotator in one), checked by name and size."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(file.data))
    except zipfile.BadZipFile:
        raise FileRejected(f"{file.name} is not a valid zip file.") from None
    members = [i for i in zf.infolist() if not i.is_dir()]
    if not members:
        raise FileRejected(f"{file.name} holds no files.")
    total = 0
    out = []
    for info in members:
        if info.filename.startswith("__MACOSX/"):
            continue
        try:
            check_name(info.filename)
        except FileRejected as exc:
            raise FileRejected(f"{file.name}: {exc.reason}") from None
        total += info.file_size
        check_size(f"{file.name} (uncompressed)", total, limit)
        out.append(ImportFile(info.filename, _read_member(zf, info)))
    return out


_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One member's bytes, or FileRejected naming the member and why it cannot be read."""
    where = info.filename  # the problem is reported under the zip's name
    if info.flag_bits & 0x1:
        raise FileRejected(f"{where} is encrypted; export it again without a password.")
    if info.compress_type not in _ZIP_METHODS:
        raise FileRejected(f"{where} uses compression method {info.compress_type}, which Nisba cannot read; zip it again.")
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
        raise FileRejected(f"{where} is damaged ({exc}); nothing was read from this zip.") from None
