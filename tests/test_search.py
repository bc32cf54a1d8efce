"""Search (issue 12): folded hits in stored offsets, the FTS5 index kept current, roles and blind annotation,
Tag all with preview and one undo."""

from __future__ import annotations

import json
import sqlite3

import pytest
from raw_db import raw_connection, tamper

from annotator import search as search_module
from annotator.annotations import add_link, add_span, delete_span, undo_last, update_span
from annotator.bulk_tagging import preview_tag_all, tag_all
from annotator.errors import InvalidLabel, InvalidQuery, PermissionDenied
from annotator.importing import ImportFile, import_files
from annotator.projects import add_document, add_member, create_project, update_settings
from annotator.search import find_hits, parse_query, search
from annotator.store import Store
from annotator.text import fold, fold_text
from tests.conftest import load_tricky

HARAKAT = "\u064e\u064f\u0650\u0651\u0652"


def _vocalise(word: str) -> str:
    """The word written with a haraka after every letter and a tatweel in the middle (as some writers do)."""
    out = "".join(ch + HARAKAT[i % len(HARAKAT)] for i, ch in enumerate(word))
    return out[:2] + "\u0640" + out[2:]


@pytest.fixture
def corpus(store):
    """A project holding every tricky text, plus a few attached forms of «الوزارة»; an admin, two annotators."""
    admin_id = store.insert_user("admin", "admin")
    with store.write():
        store.insert_user("amal", "annotator")
        store.insert_user("badr", "annotator")
        store.insert_user("omar", "annotator")
    users = {u.username: u for u in store.list_users()}
    project = create_project(store, users["admin"], "Corpus")
    for name in ("amal", "badr"):
        add_member(store, users["admin"], project.id, users[name].id)
    for case in load_tricky():
        add_document(store, users["admin"], project.id, case["id"], case["text"])
    add_document(store, users["admin"], project.id, "وزارة", "قالت الوزارة إن بالوزارة موظفين وللوزارة مبنى. وزارة أخرى.")
    add_document(store, users["admin"], project.id, "قَالَ", "قَالَ الوزير. وقال آخر: قال. قال")
    assert admin_id == users["admin"].id
    return store, project, users


def _check(store, hits):
    for h in hits:
        doc = store.get_document(h.document_id)
        assert doc.text[h.start : h.end] == h.text
        assert h.title == doc.title


def test_every_hit_slices_the_stored_text_and_harakat_do_not_matter(corpus):
    store, project, users = corpus
    checked = 0
    for case in load_tricky():
        for word in case["text"].split():
            q = word.strip('.،:«»“”"/()<>=!')
            if not any(c.isalnum() for c in q):
                continue
            hits = find_hits(store, users["admin"], project.id, q)
            assert hits, q
            _check(store, hits)
            # the highlighted text folds to the query's letters: what is shown is what was asked for
            patterns = parse_query(q).patterns()
            for h in hits:
                assert any(p.fullmatch(fold_text(h.text)) for p, _group in patterns), (q, h.text)
            # with harakat and tatweel typed in, the same hits
            alnum = "".join(c for c in q if c.isalpha())
            if len(alnum) == len(q) and len(q) > 2:
                assert find_hits(store, users["admin"], project.id, _vocalise(q)) == hits
            checked += 1
    assert checked > 60


def test_qal_without_harakat_finds_the_vocalised_one(corpus):
    store, project, users = corpus
    hits = find_hits(store, users["amal"], project.id, "قال")
    texts = [h.text for h in hits]
    assert "قَالَ" in texts and texts.count("قال") >= 3
    doc = next(d for d in store.list_documents(project.id) if d.title == "قَالَ")
    first = next(h for h in hits if h.document_id == doc.id)
    assert (first.start, first.end) == (0, 5)  # the marks after the last letter stay with it
    assert "وقال" not in texts  # a whole-word search does not find the word inside another


def test_substring_mode_finds_attached_forms(corpus):
    store, project, users = corpus
    doc = next(d for d in store.list_documents(project.id) if d.title == "وزارة")
    words = [h.text for h in find_hits(store, users["amal"], project.id, "الوزارة", document_ids=[doc.id])]
    assert words == ["الوزارة"]  # as a word, only the bare one
    parts = find_hits(store, users["amal"], project.id, "الوزارة", substring=True)
    _check(store, parts)
    # two letters are below the trigram length: instr() finds them
    short = find_hits(store, users["amal"], project.id, "زا", substring=True)
    assert short and all(h.text == "زا" for h in short)


def test_attached_forms_exact(corpus):
    store, project, users = corpus
    doc = next(d for d in store.list_documents(project.id) if d.title == "وزارة")
    parts = [h for h in find_hits(store, users["amal"], project.id, "الوزارة", substring=True) if h.document_id == doc.id]
    containing = []
    for h in parts:
        s = doc.text.rfind(" ", 0, h.start) + 1
        containing.append(doc.text[s : h.end])
    assert containing == ["الوزارة", "بالوزارة", "وللوزارة"]
    # in «للوزارة» the article's alef is gone: the hit starts at its lam
    assert [h.text for h in parts] == ["الوزارة", "الوزارة", "لوزارة"]


@pytest.mark.parametrize(
    "typed", ['"', "AND", "OR NOT", "NEAR(قال", "قال*", "^قال", "col:قال", "(قال", '"قال', "قال\"'", "- + @ ="]
)
def test_fts_syntax_typed_by_a_user_never_raises(corpus, typed):
    store, project, users = corpus
    try:
        result = search(store, users["amal"], project.id, typed)
    except InvalidQuery as exc:  # only when nothing searchable is left, and it says so
        assert "letters or digits" in str(exc) or "Type a word" in str(exc)
        return
    _check(store, result.hits)
    for substring in (True,):
        _check(store, search(store, users["amal"], project.id, typed, substring=substring).hits)


@pytest.mark.parametrize("typed", ["", "   ", "،.؛!", "\u064e\u0651", "ـــ", '""'])
def test_empty_or_punctuation_only_query_says_so(corpus, typed):
    store, project, users = corpus
    with pytest.raises(InvalidQuery):
        search(store, users["amal"], project.id, typed)
    with pytest.raises(InvalidQuery):
        search(store, users["amal"], project.id, typed, substring=True)


def test_a_pasted_paragraph_is_refused_with_a_reason(corpus):
    store, project, users = corpus
    with pytest.raises(InvalidQuery, match="at most 20"):
        search(store, users["amal"], project.id, " ".join(["قال"] * 21))
    assert search(store, users["amal"], project.id, '"' + " ".join(["قال"] * 21) + '"').total == 0  # one phrase


def test_phrases_and_all_words(corpus):
    store, project, users = corpus
    hits = find_hits(store, users["amal"], project.id, '"قال الوزير"')
    assert [h.text for h in hits] == ["قَالَ الوزير"]
    both = search(store, users["amal"], project.id, "الوزارة أخرى")  # every word must occur in the document
    assert both.documents == 1 and sorted(h.text for h in both.hits) == ["أخرى", "الوزارة"]


def test_large_results_are_counted_and_paged(store):
    admin = store.user_by_username("admin") or store.get_user(store.insert_user("admin", "admin"))
    project = create_project(store, admin, "Big")
    for i in range(7):
        add_document(store, admin, project.id, f"d{i}", " ".join(["قال الوزير"] * 10))
    first = search(store, admin, project.id, "قال", page_size=25)
    assert (first.total, first.documents, first.pages, len(first.hits)) == (70, 7, 3, 25)
    last = search(store, admin, project.id, "قال", page=2, page_size=25)
    assert len(last.hits) == 20 and last.page == 2
    beyond = search(store, admin, project.id, "قال", page=99, page_size=25)
    assert beyond.page == 2
    every = [
        (h.document_id, h.start) for p in range(3) for h in search(store, admin, project.id, "قال", page=p, page_size=25).hits
    ]
    assert len(set(every)) == 70 and every == sorted(every, key=lambda x: (x[0], x[1]))


def test_ya_and_ta_can_be_told_apart(store):
    admin = store.get_user(store.insert_user("admin", "admin"))
    project = create_project(store, admin, "P")
    add_document(store, admin, project.id, "a", "مدرسة مدرسه على علي")
    loose = find_hits(store, admin, project.id, "مدرسة")
    assert [h.text for h in loose] == ["مدرسة", "مدرسه"]
    assert [h.text for h in find_hits(store, admin, project.id, "مدرسة", ta=False)] == ["مدرسة"]
    assert [h.text for h in find_hits(store, admin, project.id, "على", ya=False)] == ["على"]
    assert search(store, admin, project.id, "على", ya=False).total == 1


# ---- restrictions, roles and blind annotation -----------------------------------------------------------------


def _doc(store, project, title):
    return next(d for d in store.list_documents(project.id) if d.title == title)


def test_label_restriction_and_blind_annotation(corpus):
    store, project, users = corpus
    doc = _doc(store, project, "guillemets")
    i = doc.text.index("«")
    quote = add_span(store, users["amal"], doc.id, "QUOTE", i, doc.text.index("»") + 1)
    add_span(store, users["badr"], doc.id, "CLAIM", i, doc.text.index("»") + 1)
    # amal's QUOTE holds «المفاوضات»; badr's CLAIM the same words
    assert [h.span_id for h in find_hits(store, users["amal"], project.id, "المفاوضات", label="QUOTE")] == [quote.id]
    assert find_hits(store, users["badr"], project.id, "المفاوضات", label="QUOTE") == []  # blind: not amal's spans
    assert len(find_hits(store, users["badr"], project.id, "المفاوضات", label="CLAIM")) == 1
    with pytest.raises(PermissionDenied):
        search(store, users["badr"], project.id, "المفاوضات", annotator_id=users["amal"].id)
    assert find_hits(store, users["admin"], project.id, "المفاوضات", annotator_id=users["amal"].id)[0].span_id == quote.id
    update_settings(store, users["admin"], project.id, show_others=True)
    assert len(find_hits(store, users["badr"], project.id, "المفاوضات", label="QUOTE")) == 1
    with pytest.raises(InvalidLabel):
        search(store, users["admin"], project.id, "قال", label="NOPE")


def test_non_members_and_anonymous_are_refused(corpus):
    store, project, users = corpus
    with pytest.raises(PermissionDenied):
        search(store, users["omar"], project.id, "قال")
    with pytest.raises(PermissionDenied):
        search(store, None, project.id, "قال")


def test_spans_linked_to_a_source(corpus):
    store, project, users = corpus
    doc = _doc(store, project, "guillemets")
    text = doc.text
    src = add_span(store, users["amal"], doc.id, "SOURCE", text.index("أحد"), text.index("المسؤولين") + len("المسؤولين"))
    q = add_span(store, users["amal"], doc.id, "QUOTE", text.index("«"), text.index("»") + 1)
    add_link(store, users["amal"], q.id, src.id)
    other = _doc(store, project, "multi-paragraph")
    claim = add_span(store, users["amal"], other.id, "CLAIM", other.text.index("الخبر"), other.text.index("صحيح") + 4)
    osrc = add_span(store, users["amal"], other.id, "SOURCE", other.text.index("المصدر"), other.text.index("المصدر") + 6)
    add_link(store, users["amal"], claim.id, osrc.id)
    hits = find_hits(store, users["amal"], project.id, "بعد", source="المسؤولين")
    assert [h.text for h in hits] == ["بعد"] and hits[0].span_id == q.id
    assert find_hits(store, users["amal"], project.id, "صحيح", source="المسؤولين") == []
    assert [h.span_id for h in find_hits(store, users["amal"], project.id, "صحيح", source="المصدر")] == [claim.id]
    assert find_hits(store, users["badr"], project.id, "بعد", source="المسؤولين") == []  # blind: amal's source


# ---- the index stays current -----------------------------------------------------------------------------


def _index_rows(store):
    return {(r["kind"], r["ref_id"]): r["folded"] for r in store.query("SELECT kind, ref_id, folded FROM search_folded")}


def _index_is_exact(store):
    rows = _index_rows(store)
    want = {("doc", d.id): fold(d.text).text for p in store.list_projects() for d in store.list_documents(p.id)}
    assert rows == want  # documents only: spans are searched inside their documents
    assert store.query("SELECT count(*) AS n FROM search_pending")[0]["n"] == 0
    if store.has_word_index:  # FTS5 compares its word index with search_folded (rank 1); malformed raises
        with raw_connection(store) as conn:
            conn.execute("INSERT INTO search_words (search_words, rank) VALUES ('integrity-check', 1)")


def test_index_current_after_add_edit_delete_undo_and_import(corpus):
    store, project, users = corpus
    amal = users["amal"]
    doc = _doc(store, project, "harakat-tatweel")
    _index_is_exact(store)
    span = add_span(store, amal, doc.id, "QUOTE", 0, doc.text.index(" "))
    _index_is_exact(store)
    assert [h.text for h in find_hits(store, amal, project.id, "واكد", label="QUOTE")] == ["وأكّـدَ"]
    end = doc.text.index(" ", doc.text.index(" ") + 1)
    span = update_span(store, amal, span.id, end=end)
    _index_is_exact(store)
    assert [h.text for h in find_hits(store, amal, project.id, "المتحدث", label="QUOTE")] == ["المُتَحَدِّثُ"]
    delete_span(store, amal, span.id)
    _index_is_exact(store)
    assert find_hits(store, amal, project.id, "المتحدث", label="QUOTE") == []
    undo_last(store, amal, doc.id)  # the deleted span comes back with its id
    _index_is_exact(store)
    assert [h.span_id for h in find_hits(store, amal, project.id, "المتحدث", label="QUOTE")] == [span.id]
    undo_last(store, amal, doc.id)  # the boundary change reverted
    _index_is_exact(store)
    assert find_hits(store, amal, project.id, "المتحدث", label="QUOTE") == []
    line = {"text": "نقلت وكالة جديدة عن الناطق قوله", "label": [[0, 4, "CUE"]]}
    import_files(
        store,
        users["admin"],
        project.id,
        [ImportFile("new.jsonl", (json.dumps(line, ensure_ascii=False) + "\n").encode())],
        annotator="amal",
    )
    _index_is_exact(store)
    assert [h.text for h in find_hits(store, amal, project.id, "الناطق")] == ["الناطق"]
    assert [h.text for h in find_hits(store, users["admin"], project.id, "نقلت", label="CUE")] == ["نقلت"]


def test_rows_written_outside_the_store_are_folded_on_the_next_write(corpus):
    store, project, users = corpus
    tamper(
        store,
        "INSERT INTO documents (project_id, title, text, raw_text, text_sha256, created_at)"
        " VALUES (?, 'raw', 'قالَ مصدر', 'قالَ مصدر', '', 'x')",
        (project.id,),
        keys_checked=True,
    )
    assert store.query("SELECT count(*) AS n FROM search_pending")[0]["n"] == 1
    add_document(store, users["admin"], project.id, "later", "نص آخر")
    _index_is_exact(store)
    assert [h.text for h in find_hits(store, users["amal"], project.id, "قال مصدر")] == ["قالَ", "مصدر"]


def test_migration_indexes_an_existing_database(corpus, tmp_path):
    store, project, users = corpus
    add_span(store, users["amal"], _doc(store, project, "zwnj").id, "CUE", 0, 3)
    tamper(store, "DELETE FROM search_folded", keys_checked=True)
    tamper(store, "INSERT INTO search_pending (kind, ref_id) SELECT 'doc', id FROM documents", keys_checked=True)
    from annotator.store import Store

    again = Store(store.path)  # opening the file folds what is queued
    _index_is_exact(again)
    again.close()


def test_rebuild_folds_every_document_again_and_repairs_the_index(corpus, monkeypatch):
    store, project, users = corpus
    # parts of words read every text here: the word index, behind whose back the rows are edited, would not see them
    monkeypatch.setattr(search_module, "MAX_TERMS_FOR_PART", -1)
    docs = store.list_documents(project.id)
    stale, lost = docs[0], docs[1]
    # as after a change of the folding rules, a row lost and a row of no document (written behind the store's back)
    tamper(store, "UPDATE search_folded SET folded = 'قديم' WHERE ref_id = ?", (stale.id,), keys_checked=True)
    tamper(store, "DELETE FROM search_folded WHERE ref_id = ?", (lost.id,), keys_checked=True)
    tamper(
        store, "INSERT INTO search_folded (kind, ref_id, document_id, folded) VALUES ('doc', 9999, 9999, 'x')", keys_checked=True
    )
    assert find_hits(store, users["admin"], project.id, "قديم", substring=True)  # the stale text is what is searched
    assert store.rebuild_search_index() == len(docs)
    _index_is_exact(store)
    assert find_hits(store, users["admin"], project.id, "قديم", substring=True) == []
    word = fold(lost.text).text.split()[0]
    assert lost.id in {h.document_id for h in find_hits(store, users["admin"], project.id, word)}


def test_a_database_whose_word_index_a_trigger_filled_migrates_and_stays_current(tmp_path):
    """A file of the version before m_search_words_filled_by_the_store: its documents folded and indexed by the
    trigger that step drops. Opened now, it keeps its index, and the store indexes what comes next."""
    from sqlite_utils import Database

    from annotator.schema import sqlite_migrations
    from annotator.store import Store

    path = tmp_path / "old.db"
    old = Database(path)
    sqlite_migrations().apply(old, stop_before="m_search_words_filled_by_the_store")
    text = "قالَ الوزيرُ إنّ الوزارة"
    with old.conn:  # what that version's store wrote: the document, then its folded row at commit
        old.execute("INSERT INTO projects (id, name, created_at) VALUES (1, 'old', 'x')")
        old.execute(
            "INSERT INTO documents (id, project_id, title, text, raw_text, text_sha256, created_at)"
            " VALUES (1, 1, 'old', ?, ?, '', 'x')",
            [text, text],
        )
        old.execute("INSERT INTO search_folded (kind, ref_id, document_id, folded) VALUES ('doc', 1, 1, ?)", [fold_text(text)])
        old.execute("DELETE FROM search_pending")
    assert old.execute("SELECT count(*) FROM search_words_instance WHERE term = 'قال'").fetchone()[0] == 1
    old.conn.close()

    store = Store(path)
    assert not store.query("SELECT name FROM sqlite_master WHERE name = 'search_words_ai'")
    admin = store.get_user(store.insert_user("admin", "admin"))
    _index_is_exact(store)
    new = add_document(store, admin, 1, "new", "وقال الوزير قَالَ")
    _index_is_exact(store)
    hits = find_hits(store, admin, 1, "قال")
    assert [(h.document_id, h.text) for h in hits] == [(1, "قالَ"), (new.id, "قَالَ")]
    assert (search(store, admin, 1, "الوزير").total, search(store, admin, 1, "الوزير").documents) == (2, 2)
    store.close()


# ---- Tag all ----------------------------------------------------------------------------------------------


def test_tag_all_previews_creates_and_one_undo_removes_them_all(corpus):
    store, project, users = corpus
    amal = users["amal"]
    hits = find_hits(store, amal, project.id, "قال")
    doc = _doc(store, project, "قَالَ")
    already = add_span(store, amal, doc.id, "CUE", 0, 5)
    plan = preview_tag_all(store, amal, project.id, hits, "CUE")
    assert len(plan.create) == len(hits) - 1 and [sid for _h, sid in plan.existing] == [already.id] and not plan.refused
    result = tag_all(store, amal, project.id, hits, "CUE")
    assert len(result.span_ids) == len(hits) - 1
    made = [store.get_span(i) for i in result.span_ids]
    assert all(s.label == "CUE" and s.annotator_id == amal.id for s in made)
    assert len({s.document_id for s in made}) > 2
    _index_is_exact(store)
    # one Ctrl+Z on any of those documents removes every span of the batch, and only those
    other_doc = made[0].document_id
    message = undo_last(store, amal, other_doc)
    assert "Tag all" in message and str(len(hits) - 1) in message
    assert all(not store.query("SELECT 1 FROM spans WHERE id = ?", [i]) for i in result.span_ids)
    assert store.get_span(already.id).label == "CUE"
    # the next Ctrl+Z in the document walks on past the batch to the span made before it
    assert "removed" in undo_last(store, amal, doc.id)
    assert not store.query("SELECT 1 FROM spans WHERE id = ?", [already.id])


def test_undo_of_tag_all_is_refused_once_the_user_left_the_project(corpus):
    """Undo is a write: a user removed from the project cannot remove the batch's spans through it."""
    from annotator.annotations import undo_tag_all
    from annotator.errors import PermissionDenied
    from annotator.projects import remove_member

    store, project, users = corpus
    amal = users["amal"]
    result = tag_all(store, amal, project.id, find_hits(store, amal, project.id, "قال"), "CUE")
    remove_member(store, users["admin"], project.id, amal.id)
    with pytest.raises(PermissionDenied):
        undo_tag_all(store, amal, result.batch)
    assert all(store.get_span(i).label == "CUE" for i in result.span_ids)


def test_tag_all_refuses_hits_that_split_a_grapheme(store):
    admin = store.get_user(store.insert_user("admin", "admin"))
    project = create_project(store, admin, "P")
    add_document(store, admin, project.id, "e", "👍🏽 قال 👍")
    hits = find_hits(store, admin, project.id, "👍", substring=True)
    assert [h.text for h in hits] == ["👍", "👍"]
    plan = preview_tag_all(store, admin, project.id, hits, "CUE")
    assert len(plan.create) == 1 and len(plan.refused) == 1 and "splits" in plan.refused[0][1]
    result = tag_all(store, admin, project.id, hits, "CUE")
    assert len(result.span_ids) == 1 and len(result.plan.refused) == 1


def test_tag_all_is_refused_for_non_members_and_gold_for_annotators(corpus):
    store, project, users = corpus
    hits = find_hits(store, users["admin"], project.id, "قال")
    before = store.query("SELECT count(*) AS n FROM spans")[0]["n"]
    with pytest.raises(PermissionDenied):
        tag_all(store, users["omar"], project.id, hits, "CUE")
    with pytest.raises(PermissionDenied):
        tag_all(store, users["amal"], project.id, hits, "CUE", layer="gold")
    assert store.query("SELECT count(*) AS n FROM spans")[0]["n"] == before


@pytest.mark.parametrize("query", ["قال", "الوزارة أخرى", "قال الوزير", '"قال الوزير"', "ان"])
def test_pages_counted_from_the_index_agree_with_every_hit(corpus, query):
    store, project, users = corpus
    every = find_hits(store, users["amal"], project.id, query)
    first = search(store, users["amal"], project.id, query, page_size=2)
    assert first.total == len(every) and first.documents == len({h.document_id for h in every})
    paged = [h for p in range(first.pages) for h in search(store, users["amal"], project.id, query, page=p, page_size=2).hits]
    assert paged == every


def test_index_current_after_a_streamed_import(corpus, tmp_path):
    from annotator.import_stream import import_jsonl_stream

    store, project, users = corpus
    path = tmp_path / "stream.jsonl"
    line = {"text": "وصرّح المتحـدث باسم الهيئة أن القرار نهائي", "label": [[0, 5, "CUE"]]}
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    import_jsonl_stream(store, users["admin"], project.id, [path], annotator="amal")
    _index_is_exact(store)
    assert [h.text for h in find_hits(store, users["amal"], project.id, "المتحدث")] == ["المُتَحَدِّثُ", "المتحـدث"]
    assert [h.text for h in find_hits(store, users["amal"], project.id, "وصرح", label="CUE")] == ["وصرّح"]


def _parts_of_words() -> list[str]:
    """Parts of the tricky texts' words as an analyst would type them: each word without its first letter,
    without its last, and its middle three letters (harakat, tatweel, emoji, Latin and digits included)."""
    parts = set()
    for case in load_tricky():
        for word in case["text"].split():
            if len(word) >= 4:
                parts |= {word[1:], word[:-1], word[len(word) // 2 - 1 : len(word) // 2 + 2]}
    return sorted(parts)


def test_parts_of_words_found_through_the_word_index_equal_the_scan(corpus, monkeypatch):
    """Substring mode looks a part of one word up in the word index's terms and reads only the documents holding
    them; the hits are those of reading every text, to the offset."""
    store, project, users = corpus
    amal = users["amal"]
    looked_up = 0
    for part in _parts_of_words():
        q = parse_query(part, substring=True)
        if search_module._documents_with_parts(store, q.contains()) is not None:
            looked_up += 1
        through_index = [find_hits(store, amal, project.id, part, substring=True, ya=ya) for ya in (True, False)]
        with monkeypatch.context() as m:
            m.setattr(search_module, "MAX_TERMS_FOR_PART", -1)  # every part has more terms: read every text
            assert search_module._documents_with_parts(store, q.contains()) is None
            scanned = [find_hits(store, amal, project.id, part, substring=True, ya=ya) for ya in (True, False)]
        assert through_index == scanned, part
        _check(store, through_index[0])
    assert looked_up > 100 if store.has_word_index else looked_up == 0  # PostgreSQL has no word index: it scans
    if store.has_word_index:  # the attached forms come from a few documents, not all
        candidates = search_module._documents_with_parts(store, parse_query("الوزارة", substring=True).contains())
        assert 0 < len(candidates) < len(store.list_documents(project.id)) / 4


@pytest.mark.parametrize("query", ['"الوزارة إن"', "زا", "\U0001f44d"])
def test_a_part_across_words_or_too_short_reads_every_text(corpus, query):
    store, project, users = corpus
    assert search_module._documents_with_parts(store, parse_query(query, substring=True).contains()) is None
    hits = find_hits(store, users["amal"], project.id, query, substring=True)
    assert hits
    _check(store, hits)


def test_terms_kept_in_memory_follow_new_and_refolded_documents(corpus):
    store, project, users = corpus
    admin = users["admin"]
    assert find_hits(store, admin, project.id, "ستقلال", substring=True) == []  # the terms are read and kept
    add_document(store, admin, project.id, "new", "يوم الاستقلال")
    assert [h.text for h in find_hits(store, admin, project.id, "ستقلال", substring=True)] == ["ستقلال"]
    # a folded row gone stale (as after a change of the folding rules), the word index rebuilt from it by hand
    tamper(store, "UPDATE search_folded SET folded = 'يوم' WHERE ref_id = ?", (_doc(store, project, "new").id,))
    if store.has_word_index:
        tamper(store, "INSERT INTO search_words (search_words) VALUES ('rebuild')")
    other = Store(store.path)  # its own terms, read while the word is nowhere
    try:
        assert find_hits(other, admin, project.id, "ستقلال", substring=True) == []
        other.rebuild_search_index()
        assert [h.text for h in find_hits(other, admin, project.id, "ستقلال", substring=True)] == ["ستقلال"]
    finally:
        other.close()


def test_part_of_a_word_characters_stay_whole_in_the_word_index(tmp_path):
    """Every character search._IN_ONE_TERM accepts (already lower-cased, as folded text is) is kept inside a term
    by SQLite's unicode61 tokenizer, unchanged: a part made of them lies in a term of every word holding it."""
    conn = sqlite3.connect(tmp_path / "tokens.db")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 0')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, row)")
    chars = [c for c in map(chr, range(0x30000)) if c.lower() == c and search_module._IN_ONE_TERM.fullmatch(c)]
    conn.executemany("INSERT INTO t (x) VALUES (?)", [(f"a{c}b",) for c in chars])
    terms = {r[0] for r in conn.execute("SELECT term FROM v")}
    conn.close()
    assert [c for c in chars if f"a{c}b" not in terms] == []
    assert len(chars) > 100_000
