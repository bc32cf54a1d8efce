"""Suggestions on a real SQLite file: list, accept (with links and origin), dismiss, accept all, one Ctrl+Z each,
blind annotation, a project's own cue forms, denials that write nothing, and an engine failure."""

from __future__ import annotations

import pytest

from annotator import annotations as A
from annotator import auth, projects
from annotator import suggestions as S
from annotator.errors import NotFound, PermissionDenied
from annotator.store import Store
from annotator.suggest import LexiconError
from tests.test_access_matrix import snapshot


def by_label(suggestions, label):
    return [s for s in suggestions if s.label == label]


def first_claim_with_links(suggestions):
    return next(s for s in suggestions if s.label == "CLAIM" and len(s.links) == 2)


def test_list_gives_rule_suggestions_for_the_users_own_layer(demo, users, demo_doc):
    sugg = S.list_suggestions(demo, users["amal"], demo_doc.id)
    assert {s.label for s in sugg} == {"CLAIM", "QUOTE", "SOURCE", "CUE"}
    assert len({s.key for s in sugg}) == len(sugg)
    for s in sugg:
        assert demo_doc.text[s.start : s.end] == s.text and s.engine == "rules"
    assert [(s.start, s.end) for s in sugg] == sorted((s.start, s.end) for s in sugg)


def test_accept_makes_the_span_with_origin_and_links_both_ends_and_one_undo_removes_it(demo, users, demo_doc):
    amal = users["amal"]
    claim = first_claim_with_links(S.list_suggestions(demo, amal, demo_doc.id))
    targets = dict(claim.links)
    cue = S.accept_suggestion(demo, amal, demo_doc.id, targets["cue"])
    assert cue.origin["engine"] == "rules" and cue.origin["suggestion"] == targets["cue"] and cue.origin["engine_version"]
    span = S.accept_suggestion(demo, amal, demo_doc.id, claim.key)
    source = S.accept_suggestion(demo, amal, demo_doc.id, targets["attributed_to"])  # the link made from the other end
    stored = Store(demo.path).get_span(span.id)
    assert (stored.label, stored.start_offset, stored.end_offset, stored.text) == (
        claim.label,
        claim.start,
        claim.end,
        claim.text,
    )
    assert stored.annotator_id == amal.id and stored.layer == "annotator"
    links = {(k.from_span_id, k.type, k.to_span_id) for k in demo.list_links(demo_doc.id)}
    assert links == {(span.id, "cue", cue.id), (span.id, "attributed_to", source.id)}
    keys = {s.key for s in S.list_suggestions(demo, amal, demo_doc.id)}
    assert claim.key not in keys and targets["cue"] not in keys
    assert "removed" in A.undo_last(demo, amal, demo_doc.id)  # the source and its link go together
    assert {k.type for k in demo.list_links(demo_doc.id)} == {"cue"}
    assert targets["attributed_to"] in {s.key for s in S.list_suggestions(demo, amal, demo_doc.id)}
    A.undo_last(demo, amal, demo_doc.id)
    A.undo_last(demo, amal, demo_doc.id)
    assert demo.list_spans(demo_doc.id) == [] and demo.list_links(demo_doc.id) == []
    assert A.undo_last(demo, amal, demo_doc.id) is None


def test_dismiss_is_remembered_per_user_and_undone_by_one_ctrl_z(demo, users, demo_doc):
    amal, badr = users["amal"], users["badr"]
    key = S.list_suggestions(demo, amal, demo_doc.id)[0].key
    S.dismiss_suggestion(demo, amal, demo_doc.id, key)
    reopened = Store(demo.path)  # a reload: the dismissal is in the database
    assert key not in {s.key for s in S.list_suggestions(reopened, amal, demo_doc.id)}
    assert key in {s.key for s in S.list_suggestions(reopened, badr, demo_doc.id)}
    with pytest.raises(NotFound):
        S.dismiss_suggestion(demo, amal, demo_doc.id, key)
    with pytest.raises(NotFound):
        S.accept_suggestion(demo, amal, demo_doc.id, key)
    assert "back" in A.undo_last(demo, amal, demo_doc.id)
    assert key in {s.key for s in S.list_suggestions(demo, amal, demo_doc.id)}


def test_accept_all_of_a_label_is_one_action_and_links_to_what_exists(demo, users, demo_doc):
    amal = users["amal"]
    sugg = S.list_suggestions(demo, amal, demo_doc.id)
    made = S.accept_all(demo, amal, demo_doc.id, "CUE")
    assert len(made) == len(by_label(sugg, "CUE")) > 3 and demo.list_links(demo_doc.id) == []
    claims = S.accept_all(demo, amal, demo_doc.id, "CLAIM")
    # every suggested claim → cue link is made (both ends now exist); no attributed_to yet (no SOURCE accepted)
    expected = {(c.key, target) for c in by_label(sugg, "CLAIM") for t, target in c.links if t == "cue"}
    key_of = {sp.id: f"{sp.label}:{sp.start_offset}:{sp.end_offset}" for sp in demo.list_spans(demo_doc.id)}
    made_links = {(key_of[k.from_span_id], key_of[k.to_span_id]) for k in demo.list_links(demo_doc.id)}
    assert made_links == expected and len(claims) == len(by_label(sugg, "CLAIM"))
    assert S.accept_all(demo, amal, demo_doc.id, "CLAIM") == []
    A.undo_last(demo, amal, demo_doc.id)  # the CLAIMs and their links, in one
    assert {s.label for s in demo.list_spans(demo_doc.id)} == {"CUE"} and demo.list_links(demo_doc.id) == []
    A.undo_last(demo, amal, demo_doc.id)
    assert demo.list_spans(demo_doc.id) == []


def test_blind_annotation_suggestions_never_reflect_another_annotators_spans(demo, users, demo_doc):
    amal, badr = users["amal"], users["badr"]
    before = S.list_suggestions(demo, amal, demo_doc.id)
    S.accept_all(demo, badr, demo_doc.id, "SOURCE")
    first = before[0]
    S.dismiss_suggestion(demo, badr, demo_doc.id, first.key)
    A.add_span(demo, badr, demo_doc.id, "CLAIM", 0, 4)
    assert S.list_suggestions(demo, amal, demo_doc.id) == before
    # amal's own span of the same label and offsets removes that suggestion for her only
    A.add_span(demo, amal, demo_doc.id, first.label, first.start, first.end)
    assert first.key not in {s.key for s in S.list_suggestions(demo, amal, demo_doc.id)}


def test_reviewer_works_on_gold_and_annotators_may_not(demo, users, demo_doc):
    rana, amal = users["rana"], users["amal"]
    key = by_label(S.list_suggestions(demo, rana, demo_doc.id, layer="gold"), "CUE")[0].key
    span = S.accept_suggestion(demo, rana, demo_doc.id, key, layer="gold")
    assert span.layer == "gold"
    before = snapshot(demo)
    with pytest.raises(PermissionDenied):
        S.accept_suggestion(demo, amal, demo_doc.id, key, layer="gold")
    assert snapshot(demo) == before


@pytest.mark.parametrize("action", ["list", "accept", "dismiss", "accept_all"])
def test_denials_write_nothing(demo, users, demo_doc, action):
    admin = users["admin"]
    outsider = auth.create_user(demo, admin, "omar", "annotator")
    gone = auth.create_user(demo, admin, "sami", "annotator")
    projects.add_member(demo, admin, demo_doc.project_id, gone.id)
    key = S.list_suggestions(demo, users["amal"], demo_doc.id)[0].key
    auth.deactivate(demo, admin, gone.id)
    calls = {
        "list": lambda u: S.list_suggestions(demo, u, demo_doc.id),
        "accept": lambda u: S.accept_suggestion(demo, u, demo_doc.id, key),
        "dismiss": lambda u: S.dismiss_suggestion(demo, u, demo_doc.id, key),
        "accept_all": lambda u: S.accept_all(demo, u, demo_doc.id, "CUE"),
    }
    for who in (outsider, gone, None):
        before = snapshot(demo)
        with pytest.raises(PermissionDenied):
            calls[action](who)
        assert snapshot(demo) == before
    calls[action](users["amal"])  # the same call by a member works


def test_project_cue_forms_admin_only_validated_and_where_they_fire(demo, users, demo_doc):
    admin, amal = users["admin"], users["amal"]
    pid = demo_doc.project_id
    projects.add_document(demo, admin, pid, "خبر", "وأفصح المدير العام أن الشركة ستندمج قريبا.")
    before = snapshot(demo)
    with pytest.raises(LexiconError, match="line 2: unknown kind 'verbb'"):
        S.add_project_cues(demo, admin, pid, "أفصح\tأفصح\tverb\nأدلى\tأدلى\tverbb\n")
    with pytest.raises(LexiconError, match="line 1: 'قال' is already a cue form"):
        S.add_project_cues(demo, admin, pid, "قال\tقال\tverb\n")
    with pytest.raises(PermissionDenied):
        S.add_project_cues(demo, amal, pid, "أفصح\tأفصح\tverb\n")
    assert snapshot(demo) == before
    S.add_project_cues(demo, admin, pid, "أفصح\tأفصح\tverb\n")
    assert [c["form"] for c in S.list_project_cues(demo, amal, pid)] == ["أفصح"]
    hits = S.cue_firings(demo, admin, pid, "أفصح")
    assert [(h["title"], h["text"]) for h in hits] == [("خبر", "وأفصح")]
    doc = demo.list_documents(pid)[-1]
    assert "وأفصح" in {s.text for s in S.list_suggestions(demo, amal, doc.id)}
    cue_id = S.list_project_cues(demo, admin, pid)[0]["id"]
    before = snapshot(demo)
    for call in (lambda: S.delete_project_cue(demo, amal, pid, cue_id), lambda: S.cue_firings(demo, amal, pid, "أفصح")):
        with pytest.raises(PermissionDenied):
            call()
    assert snapshot(demo) == before
    S.delete_project_cue(demo, admin, pid, cue_id)
    assert "وأفصح" not in {s.text for s in S.list_suggestions(demo, amal, doc.id)}


def test_an_engine_failure_is_one_named_error_and_annotation_goes_on(demo, users, demo_doc, monkeypatch):
    def broken(text, extra=()):
        raise RuntimeError("lexicon file missing")

    S._cache.clear()
    monkeypatch.setattr(S, "suggest", broken)
    with pytest.raises(S.SuggestionEngineError, match="lexicon file missing"):
        S.list_suggestions(demo, users["amal"], demo_doc.id)
    span = A.add_span(demo, users["amal"], demo_doc.id, "CUE", 0, 4)
    assert demo.get_span(span.id).text == demo_doc.text[0:4]


def test_counts_per_engine_and_label_for_reviewers(demo, users, demo_doc):
    amal, rana = users["amal"], users["rana"]
    sugg = S.list_suggestions(demo, amal, demo_doc.id)
    cue = by_label(sugg, "CUE")
    S.accept_suggestion(demo, amal, demo_doc.id, cue[0].key)
    changed = S.accept_suggestion(demo, amal, demo_doc.id, cue[1].key)
    A.update_span(demo, amal, changed.id, label="SOURCE")
    S.dismiss_suggestion(demo, amal, demo_doc.id, cue[2].key)
    rows = {(r["engine"], r["label"]): r for r in S.suggestion_counts(demo, rana, demo_doc.project_id)}
    assert rows[("rules", "CUE")] == dict(engine="rules", label="CUE", accepted=1, changed=0, dismissed=1)
    assert rows[("rules", "SOURCE")]["changed"] == 1
    with pytest.raises(PermissionDenied):
        S.suggestion_counts(demo, amal, demo_doc.project_id)


def test_label_studio_predictions_become_import_suggestions_with_their_links(demo, users):
    """An import's predictions stay their model's layer (for the round trip) and are offered to annotators as
    suggestions of engine import:<model_version>; accepting one makes the annotator's span with that origin, and
    its suggested link once both ends exist."""
    from annotator.importing import file_from_path, import_files
    from tests.test_importing import PEER

    admin, amal = users["admin"], users["amal"]
    project = projects.create_project(demo, admin, "Predictions")
    projects.add_member(demo, admin, project.id, amal.id)
    import_files(demo, admin, project.id, [file_from_path(PEER / "labelstudio-1.23.snapshot.json")])
    predicted = {}
    for doc in demo.list_documents(project.id):
        for s in demo.list_spans(doc.id):
            if s.origin.get("source") == "labelstudio-prediction":
                predicted.setdefault(doc.id, set()).add((s.label, s.start_offset, s.end_offset, s.text))
    doc_id, spots = next(iter(predicted.items()))
    offered = [s for s in S.list_suggestions(demo, amal, doc_id, engine="import")]
    assert {(s.label, s.start, s.end, s.text) for s in offered} == spots
    assert {s.engine for s in offered} == {"import:attrib-rules-v0.3"}
    text = demo.get_document(doc_id).text
    assert all(text[s.start : s.end] == s.text for s in offered)
    # the default list (what the annotation screen shows) carries them beside the rules' suggestions
    default = {s.key: s for s in S.list_suggestions(demo, amal, doc_id)}
    assert all(default[s.key].engine == s.engine for s in offered)
    linked = next(s for s in offered if s.links)
    link_type, target = linked.links[0]
    S.accept_suggestion(demo, amal, doc_id, target, engine="import")
    span = S.accept_suggestion(demo, amal, doc_id, linked.key, engine="import")
    assert span.annotator_id == amal.id and span.origin["engine"] == "import:attrib-rules-v0.3"
    links = [k for k in demo.links_of_span(span.id) if k.type == link_type]
    assert len(links) == 1
    other = demo.get_span(links[0].to_span_id if links[0].from_span_id == span.id else links[0].from_span_id)
    assert other.annotator_id == amal.id and f"{other.label}:{other.start_offset}:{other.end_offset}" == target
    # both accepted suggestions are no longer offered; the model's own layer is untouched
    left = {s.key for s in S.list_suggestions(demo, amal, doc_id, engine="import")}
    assert linked.key not in left and target not in left
    assert sum(len(v) for v in predicted.values()) == sum(
        1 for d in predicted for s in demo.list_spans(d) if s.origin.get("source") == "labelstudio-prediction"
    )
