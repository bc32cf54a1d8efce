"""The attribution index (issue 12): sources grouped by folded text, merges kept by text and audited, what is
attributed to each source, blind annotation, and the CSV files."""

from __future__ import annotations

import pytest

from annotator.annotations import add_link, add_span
from annotator.attribution_index import InvalidMerge, attribution_index, attributions, index_csv, merge_sources, split_source
from annotator.errors import PermissionDenied
from annotator.projects import add_document, add_member, create_project

DOC1 = "قال وزير الخارجية الأمريكي ماركو روبيو إن «الاتفاق قريب»، وأكد روبيو أن المحادثات مستمرة."
DOC2 = "وزعم رُوبيو أن الخطة جاهزة."


@pytest.fixture
def project(store):
    with store.write():
        for name, role in (("admin", "admin"), ("amal", "annotator"), ("badr", "annotator"), ("rana", "reviewer")):
            store.insert_user(name, role)
    users = {u.username: u for u in store.list_users()}
    project = create_project(store, users["admin"], "Who said what")
    for name in ("amal", "badr", "rana"):
        add_member(store, users["admin"], project.id, users[name].id)
    d1 = add_document(store, users["admin"], project.id, "=أول", DOC1, metadata={"date": "2025-11-02"})
    d2 = add_document(store, users["admin"], project.id, "ثان", DOC2, metadata={"date": "2025-11-20"})
    return store, project, users, d1, d2


def _tag(store, user, doc, label, text, after=0):
    i = doc.text.index(text, after)
    return add_span(store, user, doc.id, label, i, i + len(text))


def _attribute(store, user, doc, source, content, label, cue):
    s = _tag(store, user, doc, "SOURCE", source)
    c = _tag(store, user, doc, label, content)
    q = _tag(store, user, doc, "CUE", cue)
    add_link(store, user, c.id, s.id)
    add_link(store, user, c.id, q.id, "cue")
    return s, c


def test_sources_with_quotes_claims_cues_documents_and_dates(project):
    store, project, users, d1, d2 = project
    amal = users["amal"]
    _attribute(store, amal, d1, "وزير الخارجية الأمريكي ماركو روبيو", "«الاتفاق قريب»", "QUOTE", "قال")
    _attribute(store, amal, d1, "روبيو", "المحادثات مستمرة", "CLAIM", "وأكد")
    _attribute(store, amal, d2, "رُوبيو", "الخطة جاهزة", "CLAIM", "وزعم")
    index = attribution_index(store, users["rana"], project.id)
    table = index.table()
    assert list(table["group"]) == ["روبيو", "وزير الخارجيه الامريكي ماركو روبيو"]  # «رُوبيو» folds into «روبيو»
    top = table.iloc[0]
    assert (top["source"], top["variants"], top["claims"], top["quotes"], top["documents"]) == ("روبيو", 1, 2, 0, 2)
    assert (top["first"], top["last"]) == ("2025-11-02", "2025-11-20")
    assert top["cues"] == "واكد (1)، وزعم (1)"
    rows = attributions(store, users["rana"], index, "روبيو")
    assert [(r["text"], r["cues"], r["document"]) for r in rows] == [
        ("المحادثات مستمرة", "وأكد", "=أول"), ("الخطة جاهزة", "وزعم", "ثان")
    ]  # fmt: skip
    for r in rows:  # each opens at its stored offsets
        doc = d1 if r["document_id"] == d1.id else d2
        assert doc.text[r["start"] : r["end"]] == r["text"]


def test_merges_are_kept_when_new_spans_arrive_audited_and_split(project):
    store, project, users, d1, d2 = project
    amal, rana = users["amal"], users["rana"]
    _tag(store, amal, d1, "SOURCE", "وزير الخارجية الأمريكي ماركو روبيو")
    _tag(store, amal, d1, "SOURCE", "ماركو روبيو")
    _tag(store, amal, d1, "SOURCE", "روبيو", d1.text.index("وأكد"))
    groups = set(attribution_index(store, rana, project.id).sources)
    assert len(groups) == 3
    with pytest.raises(PermissionDenied):
        merge_sources(store, amal, project.id, sorted(groups), "روبيو")
    with pytest.raises(InvalidMerge):
        merge_sources(store, rana, project.id, ["روبيو"], "روبيو")
    merge_sources(store, rana, project.id, sorted(groups), "روبيو")
    index = attribution_index(store, rana, project.id)
    assert list(index.sources) == ["روبيو"] and index.sources["روبيو"].source_spans == 3
    # a span tagged afterwards, in another document, with one of the merged spellings joins the merged source
    _tag(store, users["badr"], d2, "SOURCE", "رُوبيو")
    after = attribution_index(store, rana, project.id).sources
    assert list(after) == ["روبيو"] and after["روبيو"].source_spans == 4 and len(after["روبيو"].documents) == 2
    events = [e for e in store.iter_events("action IN ('merge', 'split')")]
    assert [(e["action"], e["user_id"]) for e in events] == [("merge", rana.id)]
    assert split_source(store, rana, project.id, "روبيو") and len(attribution_index(store, rana, project.id).sources) == 3
    with pytest.raises(InvalidMerge):
        split_source(store, rana, project.id, "روبيو")


def test_a_blind_annotator_indexes_only_their_own_spans_and_gold(project):
    store, project, users, d1, d2 = project
    _tag(store, users["amal"], d1, "SOURCE", "ماركو روبيو")
    _tag(store, users["badr"], d2, "SOURCE", "رُوبيو")
    assert set(attribution_index(store, users["amal"], project.id).sources) == {"ماركو روبيو"}
    assert set(attribution_index(store, users["rana"], project.id).sources) == {"ماركو روبيو", "روبيو"}
    assert set(attribution_index(store, users["rana"], project.id, layer="gold").sources) == set()
    with pytest.raises(PermissionDenied):
        attribution_index(store, None, project.id)


def test_csv_files_exactly(project):
    store, project, users, d1, d2 = project
    _attribute(store, users["amal"], d1, "روبيو", "المحادثات مستمرة", "CLAIM", "وأكد")
    files = index_csv(store, users["rana"], attribution_index(store, users["rana"], project.id))
    i = d1.text.index("المحادثات")
    assert files["sources.csv"] == (
        "group,source,variant,source_spans,attributed,documents\r\n"
        "روبيو,روبيو,روبيو,1,1,1\r\n"
    )  # fmt: skip
    assert files["attributions.csv"] == (
        "group,source,label,content,cues,document_id,title,start_offset,end_offset\r\n"
        f"روبيو,روبيو,CLAIM,المحادثات مستمرة,وأكد,{d1.id},'=أول,{i},{i + 16}\r\n"
    )
