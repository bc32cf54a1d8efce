"""Preload hints for the app's page (annotator/ui/page_hints.py): which files a build names, the tags (the gate puts
them in the page: tests/test_gate.py)."""

from __future__ import annotations

from pathlib import Path

from streamlit import file_util

from annotator.ui.page_hints import FIRST_SCREEN_CHUNKS, hints_for, lazy_chunk_files

# The shape of Streamlit's entry module (Vite/Rolldown): a table of file names, lazy imports naming their files.
ENTRY_JS = (
    'const __vite__mapDeps=(i,m=__vite__mapDeps,d=(m.f||(m.f=["./Table.A1.js","./shared.B2.js",'
    '"./DataFrame.C3.js","../css/DataFrame.D4.css","./BidiComponent.E5.js"])))=>i.map(i=>d[i]);'
    "import{a as H}from'./preload-helper.F6.js';"
    "var t=lazy(()=>H(()=>import(`./Table.A1.js`),__vite__mapDeps([0,1]),import.meta.url)),"
    "d=lazy(()=>H(()=>import(`./DataFrame.C3.js`).then(e=>e.n),__vite__mapDeps([2,1,3]),import.meta.url)),"
    "b=lazy(()=>H(()=>import(`./BidiComponent.E5.js`),__vite__mapDeps([4,1]),import.meta.url));"
)
INDEX_HTML = """<!doctype html><html><head><title>Streamlit</title>
<script type="module" crossorigin src="./static/js/index.X9.js"></script>
<link rel="modulepreload" crossorigin href="./static/js/shared.B2.js">
</head><body><div id="root"></div></body></html>"""


def fake_build(tmp_path: Path) -> Path:
    (tmp_path / "static/js").mkdir(parents=True)
    (tmp_path / "index.html").write_text(INDEX_HTML, encoding="utf-8")
    (tmp_path / "static/js/index.X9.js").write_text(ENTRY_JS, encoding="utf-8")
    return tmp_path


def test_lazy_chunk_files_reads_the_table_of_a_vite_entry():
    assert lazy_chunk_files(ENTRY_JS) == {
        "Table": ["./Table.A1.js", "./shared.B2.js"],
        "DataFrame": ["./DataFrame.C3.js", "./shared.B2.js", "../css/DataFrame.D4.css"],
        "BidiComponent": ["./BidiComponent.E5.js", "./shared.B2.js"],
    }


def test_an_entry_of_another_shape_names_nothing():
    assert lazy_chunk_files("import('./x.js')") == {}
    broken = ENTRY_JS.replace("__vite__mapDeps([4,1])", "__vite__mapDeps([9,1])")  # an index past the table
    assert lazy_chunk_files(broken) == {}


def test_hints_name_each_file_once_and_skip_what_the_page_preloads(tmp_path):
    tags = hints_for(fake_build(tmp_path), ("DataFrame", "BidiComponent", "Missing"))
    assert tags == (
        '<link rel="modulepreload" crossorigin href="./static/js/DataFrame.C3.js">'
        '<link rel="preload" as="style" crossorigin href="./static/css/DataFrame.D4.css">'
        '<link rel="modulepreload" crossorigin href="./static/js/BidiComponent.E5.js">'
    )


def test_hints_for_the_installed_streamlit_cover_the_first_screen():
    # Streamlit's file names change with every release; its build must still say which files each chunk loads.
    static = Path(file_util.get_static_dir())
    tags = hints_for(static)
    for name in FIRST_SCREEN_CHUNKS:
        assert f'href="./static/js/{name}.' in tags, f"Streamlit's build no longer names the {name} chunk"
    for href in tags.split('href="./')[1:]:
        assert (static / href.split('"')[0]).is_file()
