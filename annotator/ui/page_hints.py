"""Preload hints in the app's HTML page: the files a page load would otherwise fetch one wave after another.

Streamlit's frontend loads the code of most element types lazily: a selectbox, a toggle, a dataframe or a
custom component pulls its JavaScript chunk (and that chunk's imports) only when the element's first message
arrives over the websocket, and the article component's own script is requested only after that chunk ran. On a
page load of the long document this was the critical path (issue 7): the browser sat idle while the script ran,
then fetched ~70 chunks and the component's files in three waves after the data had arrived.

:func:`hint_tags` lists them as ``<link rel="modulepreload">`` / ``preload`` tags that the login gate puts in
the page's ``<head>`` (serve.py hands it this function), so the browser fetches and compiles them while the server runs the script. Which files a
chunk needs is read from Streamlit's own build (its entry module names each lazy chunk with the files it loads,
for its preload helper), so the hints follow Streamlit's file names; if that build cannot be read, the page is
served unchanged.
"""

from __future__ import annotations

import functools
import logging
import posixpath
import re
from pathlib import Path

from annotator.ui.article_component import FONT_BASE, serve_component_files

_log = logging.getLogger(__name__)

# Element types the pages draw on their first screen (the annotation page: st.html for the bidi style,
# buttons, toggles, selectboxes, the find box, the article component, the documents table).
FIRST_SCREEN_CHUNKS = ("Html", "Button", "Checkbox", "Selectbox", "TextInput", "BidiComponent", "DataFrame")
# The article component's files (served by Streamlit's component route once registered) and the Arabic font its
# first screen is set in (the address article.js builds from FONT_BASE; bold is rare and loads when used).
COMPONENT_TAGS = (
    '<link rel="modulepreload" href="./_stcore/bidi-components/nisba.article/article.js">'
    '<link rel="preload" as="style" href="./_stcore/bidi-components/nisba.article/article.css">'
    f'<link rel="preload" as="font" type="font/woff2" crossorigin href="{FONT_BASE}noto-naskh-arabic-arabic-400-normal.woff2">'
).encode()

_ENTRY = re.compile(r'<script type="module" crossorigin src="\./static/js/([^"]+\.js)"')
_PRELOADED = re.compile(r'<link rel="modulepreload" crossorigin href="\./static/js/([^"]+)"')
_DEPS_TABLE = re.compile(r"__vite__mapDeps=\(i,m=__vite__mapDeps,d=\(m\.f\|\|\(m\.f=\[(.*?)\]\)\)\)=>")
_LAZY_IMPORT = re.compile(r"import\(`\./([^`]+\.js)`\)(?:\.then\([^)]*\))?,__vite__mapDeps\(\[([0-9,]*)\]\)")


def lazy_chunk_files(index_js: str) -> dict[str, list[str]]:
    """For each lazily imported chunk of Streamlit's entry module, the files its import loads (paths relative to
    ``static/js/``, the chunk itself first, CSS as ``../css/…``), by the chunk's name without its hash
    (``"DataFrame"``). Empty when the module does not have the shape of a Vite/Rolldown build."""
    table = _DEPS_TABLE.search(index_js)
    if table is None:
        return {}
    files = re.findall(r'"([^"]+)"', table.group(1))
    chunks: dict[str, list[str]] = {}
    for chunk, indices in _LAZY_IMPORT.findall(index_js):
        try:
            chunks[chunk.split(".", 1)[0]] = [files[int(i)] for i in indices.split(",") if i]
        except IndexError:  # a table that does not match its imports: hint nothing rather than wrong files
            return {}
    return chunks


def hints_for(static_dir: Path, chunk_names=FIRST_SCREEN_CHUNKS) -> str:
    """The ``<link>`` tags for Streamlit's build in ``static_dir`` (its ``index.html``): every file the chunks
    ``chunk_names`` load that the page does not preload already."""
    index_html = (static_dir / "index.html").read_text(encoding="utf-8")
    entry = _ENTRY.search(index_html)
    chunks = lazy_chunk_files((static_dir / "static/js" / entry.group(1)).read_text(encoding="utf-8")) if entry else {}
    seen = {"./" + name for name in _PRELOADED.findall(index_html)}
    tags = []
    for name in chunk_names:
        for path in chunks.get(name, []):
            if path in seen:
                continue
            seen.add(path)
            href = "./" + posixpath.normpath(posixpath.join("static/js", path))
            if path.endswith(".css"):  # the helper adds the stylesheet itself; this only fetches it early
                tags.append(f'<link rel="preload" as="style" crossorigin href="{href}">')
            else:
                tags.append(f'<link rel="modulepreload" crossorigin href="{href}">')
    if not chunks:
        _log.warning("page hints: Streamlit's lazy chunks not found in %s; no chunk is preloaded", static_dir)
    return "".join(tags)


def hint_tags() -> bytes:
    """The tags for a page now: Streamlit's chunks, and the article component's files and font once the server
    serves them (registered here if not yet: a page load may come before any script has run)."""
    try:
        served = serve_component_files() is not None
    except Exception:  # an internal API of Streamlit moved: the component sends its code inline
        served = False
    return _chunk_tags() + (COMPONENT_TAGS if served else b"")


@functools.cache
def _chunk_tags() -> bytes:
    """The chunk tags for the installed Streamlit (computed once per process; empty if its build cannot be read)."""
    from streamlit import file_util

    try:
        return hints_for(Path(file_util.get_static_dir())).encode()
    except OSError:
        _log.warning("page hints: Streamlit's static files unreadable; the page is served without hints", exc_info=True)
        return b""
