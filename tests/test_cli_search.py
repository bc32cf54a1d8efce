"""``python -m annotator search``: hits as CSV through the one writer, as the acting admin; ``search-index rebuild``."""

from raw_db import tamper

from annotator.cli import main
from annotator.projects import add_document, create_project

HEADER = "document_id,title,start_offset,end_offset,text,context\r\n"


def test_search_prints_hits_as_csv_exactly(store, capsys):
    admin = store.get_user(store.insert_user("admin", "admin"))
    project = create_project(store, admin, "أخبار")
    doc = add_document(store, admin, project.id, "=عنوان", "قَالَ الوزير إن الخطة جاهزة، وقال آخر: لا.")
    assert main(["search", "--db", store.path, "--project", "أخبار", "قال"]) == 0
    out = capsys.readouterr().out
    # the title starts with = and is neutralised; the hit keeps its harakat; the context is plain text
    assert out == HEADER + f"{doc.id},'=عنوان,0,5,قَالَ,قَالَ الوزير إن الخطة جاهزة، وقال آخر:\r\n"


def test_search_substring_and_label(store, capsys):
    from annotator.annotations import add_span

    admin = store.get_user(store.insert_user("admin", "admin"))
    project = create_project(store, admin, "P")
    doc = add_document(store, admin, project.id, "t", "بالوزارة موظفون والوزارة هنا")
    add_span(store, admin, doc.id, "QUOTE", 0, 8)
    assert main(["search", "--db", store.path, "--project", "P", "--substring", "الوزارة"]) == 0
    rows = capsys.readouterr().out.split("\r\n")[1:-1]
    assert [r.split(",")[2:5] for r in rows] == [["1", "8", "الوزارة"], ["17", "24", "الوزارة"]]
    assert main(["search", "--db", store.path, "--project", "P", "--substring", "--label", "QUOTE", "الوزارة"]) == 0
    rows = capsys.readouterr().out.split("\r\n")[1:-1]
    assert [r.split(",")[2:4] for r in rows] == [["1", "8"]]


def test_search_errors_are_messages(store, capsys):
    admin = store.get_user(store.insert_user("admin", "admin"))
    create_project(store, admin, "P")
    assert main(["search", "--db", store.path, "--project", "nope", "قال"]) == 1
    assert "no project named" in capsys.readouterr().err
    assert main(["search", "--db", store.path, "--project", "P", "«»"]) == 1
    assert "no letters or digits" in capsys.readouterr().err


def test_search_index_rebuild_folds_every_document_again(store, capsys):
    admin = store.get_user(store.insert_user("admin", "admin"))
    project = create_project(store, admin, "P")
    doc = add_document(store, admin, project.id, "t", "قَالَ الوزير")
    add_document(store, admin, project.id, "u", "نص آخر")
    tamper(store, "UPDATE search_folded SET folded = 'قديم' WHERE ref_id = ?", (doc.id,), keys_checked=True)
    assert main(["search", "--db", store.path, "--project", "P", "قال"]) == 0
    assert capsys.readouterr().out == HEADER  # the stale folded text is what is searched
    assert main(["search-index", "rebuild", "--db", store.path]) == 0
    assert capsys.readouterr().out.startswith("Search index rebuilt: 2 documents folded in ")
    assert main(["search", "--db", store.path, "--project", "P", "قال"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split(",")[2:5] == ["0", "5", "قَالَ"]
