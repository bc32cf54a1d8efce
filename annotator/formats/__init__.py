"""Import formats: decoding uploaded bytes safely, and readers that turn files into plain records.

The format names live here, light to import, for the command line's choices (``python -m annotator --help``
imports nothing heavy)."""

MAX_FILE_BYTES = 200 * 1024 * 1024  # per import (the page states it); a zip counts uncompressed
READER_FORMATS = ("txt", "csv", "jsonl", "labelstudio")
IMPORT_FORMATS = ("auto", *READER_FORMATS)  # "auto": from the file name and a look at its start
EXPORT_FORMATS = ("csv", "xlsx", "triples", "jsonl", "labelstudio", "conll", "audit")
