"""The access-control matrix: role × action × someone else's ids, calling the core directly.

Every denial must raise PermissionDenied and leave the database exactly as it was: the same rows in every
table (a full dump) and the same bytes in the database and WAL files. Each denial is paired with the same
action by someone allowed, so a test cannot pass because the call failed for another reason.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from raw_db import dump as raw_dump

from annotator import agreement, audit_log, auth, bulk_tagging, exporting, guidelines, importing, labels, projects, review
from annotator import annotations as A
from annotator import attribution_index as ai
from annotator import search as S
from annotator.errors import PermissionDenied
from annotator.store import Store

FIXTURES = Path(__file__).parent / "fixtures"


class World:
    """The demo project (amal, badr annotate; rana reviews) plus a second project only omar belongs to."""

    def __init__(self, store: Store):
        self.store = store
        self.u = {u.username: u for u in store.list_users()}
        admin = self.u["admin"]
        self.omar = auth.create_user(store, admin, "omar", "annotator")
        self.project = store.list_projects()[0]
        self.doc = store.list_documents(self.project.id)[0]
        other = projects.create_project(store, admin, "Other newsroom")
        projects.add_member(store, admin, other.id, self.omar.id)
        self.other_project = other
        self.other_doc = projects.add_document(store, admin, other.id, "خبر آخر", "قال المتحدث إن الاجتماع تأجل.")
        text = self.doc.text
        q = text.index("بالضغط على حكوماتهم المضيفة")
        s = text.index("ماركو روبيو")
        amal, badr, rana = self.u["amal"], self.u["badr"], self.u["rana"]
        self.amal_claim = A.add_span(store, amal, self.doc.id, "CLAIM", q, q + 27)
        self.amal_source = A.add_span(store, amal, self.doc.id, "SOURCE", s, s + 11)
        self.amal_link = A.add_link(store, amal, self.amal_claim.id, self.amal_source.id)
        self.badr_claim = A.add_span(store, badr, self.doc.id, "CLAIM", q, q + 27)
        self.badr_source = A.add_span(store, badr, self.doc.id, "SOURCE", s, s + 11)
        self.badr_link = A.add_link(store, badr, self.badr_claim.id, self.badr_source.id)
        self.gold = review.adopt_into_gold(store, rana, self.badr_claim.id)
        self.omar_span = A.add_span(store, self.omar, self.other_doc.id, "CLAIM", 0, 11)
        self.label = store.list_labels(self.project.id)[0]


@pytest.fixture
def w(demo) -> World:
    return World(demo)


def snapshot(store: Store) -> tuple[str, str, str]:
    """Every table's rows (a full dump) and the bytes of the database and WAL files."""
    dump = raw_dump(store)

    def digest(path: str) -> str:
        p = Path(path)
        return hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else ""

    return dump, digest(store.path), digest(store.path + "-wal")


def refused(w: World, call) -> None:
    before = snapshot(w.store)
    with pytest.raises(PermissionDenied):
        call(w)
    assert snapshot(w.store) == before, "a refused action changed the database"


# (who, what, call). ``who`` is a user name of World.u, "omar", or "badr-deactivated".
DENIALS = [
    # annotators and other people's work
    ("amal", "edit another annotator's span", lambda w, a: A.update_span(w.store, a, w.badr_claim.id, label="QUOTE")),
    ("amal", "move another annotator's span", lambda w, a: A.update_span(w.store, a, w.badr_claim.id, start=0, end=5)),
    ("amal", "delete another annotator's span", lambda w, a: A.delete_span(w.store, a, w.badr_source.id)),
    ("amal", "delete another annotator's link", lambda w, a: A.delete_link(w.store, a, w.badr_link.id)),
    ("amal", "link another annotator's spans", lambda w, a: A.add_link(w.store, a, w.badr_claim.id, w.badr_source.id)),
    ("amal", "link own claim to another's source", lambda w, a: A.add_link(w.store, a, w.amal_claim.id, w.badr_source.id)),
    ("amal", "read another layer (blind project)", lambda w, a: A.list_spans(w.store, a, w.doc.id, annotator_id=w.u["badr"].id)),
    ("amal", "add a gold span", lambda w, a: A.add_span(w.store, a, w.doc.id, "SOURCE", 0, 5, layer="gold")),
    ("amal", "edit a gold span", lambda w, a: A.update_span(w.store, a, w.gold.id, label="QUOTE")),
    ("amal", "delete a gold span", lambda w, a: A.delete_span(w.store, a, w.gold.id)),
    ("amal", "comment on another's span", lambda w, a: review.add_comment(w.store, a, "span", w.badr_claim.id, "no")),
    ("amal", "mark a document reviewed", lambda w, a: projects.set_document_status(w.store, a, w.doc.id, "reviewed")),
    # annotators reviewing
    ("amal", "accept a span", lambda w, a: review.decide(w.store, a, "span", w.badr_claim.id, "accepted", 0)),
    ("amal", "reject own span", lambda w, a: review.decide(w.store, a, "span", w.amal_claim.id, "rejected", 0)),
    ("amal", "open the review screen", lambda w, a: review.load_review(w.store, a, w.doc.id)),
    ("amal", "adopt into gold", lambda w, a: review.adopt_into_gold(w.store, a, w.amal_claim.id)),
    ("amal", "adopt agreed spans", lambda w, a: review.adopt_agreed(w.store, a, w.doc.id)),
    ("amal", "mark an annotator reviewed", lambda w, a: review.mark_reviewed(w.store, a, w.doc.id, w.u["badr"].id)),
    ("amal", "see agreement", lambda w, a: agreement.agreement_report(w.store, a, w.project.id)),
    # annotators administering
    (
        "amal",
        "edit a label",
        lambda w, a: labels.save_label(w.store, a, w.project.id, {"name": "X", "kind": "other"}, w.label.id),
    ),
    ("amal", "add a label", lambda w, a: labels.save_label(w.store, a, w.project.id, {"name": "NEW", "kind": "other"})),
    ("amal", "delete a label", lambda w, a: labels.delete_label(w.store, a, w.label.id)),
    ("amal", "change project settings", lambda w, a: projects.update_settings(w.store, a, w.project.id, show_others=True)),
    ("amal", "create a project", lambda w, a: projects.create_project(w.store, a, "Mine")),
    ("amal", "write the guidelines", lambda w, a: guidelines.save_guidelines(w.store, a, w.project.id, "CLAIM: anything")),
    ("amal", "add a document", lambda w, a: projects.add_document(w.store, a, w.project.id, "t", "نص")),
    ("amal", "join another project", lambda w, a: projects.add_member(w.store, a, w.other_project.id, a.id)),
    ("amal", "remove a colleague", lambda w, a: projects.remove_member(w.store, a, w.project.id, w.u["badr"].id)),
    ("amal", "create a user", lambda w, a: auth.create_user(w.store, a, "eve", "admin", "eve-password")),
    ("amal", "make herself admin", lambda w, a: auth.set_role(w.store, a, a.id, "admin")),
    ("amal", "reset another's password", lambda w, a: auth.set_password(w.store, a, w.u["badr"].id, "taken-over")),
    ("amal", "deactivate a colleague", lambda w, a: auth.deactivate(w.store, a, w.u["badr"].id)),
    ("amal", "list accounts", lambda w, a: auth.account_overview(w.store, a)),
    ("amal", "read the audit log", lambda w, a: audit_log.list_events(w.store, a)),
    ("amal", "verify the audit chain", lambda w, a: audit_log.chain_status(w.store, a)),
    ("amal", "see another's projects", lambda w, a: projects.member_project_ids(w.store, a, w.u["badr"].id)),
    ("amal", "export", lambda w, a: exporting.export_zip(w.store, a, w.project.id, "csv", io.BytesIO())),
    (
        "amal",
        "import",
        lambda w, a: importing.import_files(w.store, a, w.project.id, [importing.file_from_path(FIXTURES / "tricky.ar.jsonl")]),
    ),
    # reviewers: every layer to review, but not to edit, and no administration
    ("rana", "edit an annotator's span", lambda w, a: A.update_span(w.store, a, w.amal_claim.id, label="QUOTE")),
    ("rana", "delete an annotator's span", lambda w, a: A.delete_span(w.store, a, w.amal_source.id)),
    ("rana", "delete an annotator's link", lambda w, a: A.delete_link(w.store, a, w.amal_link.id)),
    (
        "rana",
        "edit a label",
        lambda w, a: labels.save_label(w.store, a, w.project.id, {"name": "X", "kind": "other"}, w.label.id),
    ),
    ("rana", "create a user", lambda w, a: auth.create_user(w.store, a, "eve", "reviewer", "eve-password")),
    ("rana", "write the guidelines", lambda w, a: guidelines.save_guidelines(w.store, a, w.project.id, "")),
    ("rana", "read the audit log", lambda w, a: audit_log.list_events(w.store, a)),
    ("rana", "review in a project she is not in", lambda w, a: review.decide(w.store, a, "span", w.omar_span.id, "accepted", 0)),
    ("rana", "export", lambda w, a: exporting.export_zip(w.store, a, w.project.id, "csv", io.BytesIO())),
    # a member of another project
    ("omar", "read a document", lambda w, a: projects.get_document(w.store, a, w.doc.id)),
    ("omar", "list its documents", lambda w, a: projects.document_overview(w.store, a, w.project.id)),
    ("omar", "read its labels", lambda w, a: labels.list_labels(w.store, a, w.project.id)),
    ("omar", "read its guidelines", lambda w, a: guidelines.get_guidelines(w.store, a, w.project.id)),
    ("omar", "read spans", lambda w, a: A.list_spans(w.store, a, w.doc.id)),
    ("omar", "read gold", lambda w, a: A.list_spans(w.store, a, w.doc.id, layer="gold")),
    ("omar", "read links", lambda w, a: A.list_links(w.store, a, w.doc.id, {w.amal_claim.id, w.amal_source.id})),
    ("omar", "read comments", lambda w, a: review.list_comments(w.store, a, w.doc.id)),
    ("omar", "add a span", lambda w, a: A.add_span(w.store, a, w.doc.id, "CLAIM", 0, 5)),
    ("omar", "set a status", lambda w, a: projects.set_document_status(w.store, a, w.doc.id, "submitted")),
    ("omar", "undo", lambda w, a: A.undo_last(w.store, a, w.doc.id)),
    # a deactivated user, still holding their User object from an open session
    ("badr-deactivated", "add a span", lambda w, a: A.add_span(w.store, a, w.doc.id, "CLAIM", 0, 5)),
    ("badr-deactivated", "edit own span", lambda w, a: A.update_span(w.store, a, w.badr_claim.id, label="QUOTE")),
    ("badr-deactivated", "delete own span", lambda w, a: A.delete_span(w.store, a, w.badr_source.id)),
    ("badr-deactivated", "delete own link", lambda w, a: A.delete_link(w.store, a, w.badr_link.id)),
    ("badr-deactivated", "undo", lambda w, a: A.undo_last(w.store, a, w.doc.id)),
    ("badr-deactivated", "read own spans", lambda w, a: A.list_spans(w.store, a, w.doc.id)),
    ("badr-deactivated", "comment", lambda w, a: review.add_comment(w.store, a, "span", w.badr_claim.id, "hello")),
    ("badr-deactivated", "list projects", lambda w, a: projects.list_projects(w.store, a)),
    # search, Tag all and the sources index (issue 12)
    (
        "amal",
        "search another layer (blind)",
        lambda w, a: S.search(w.store, a, w.project.id, "روبيو", annotator_id=w.u["badr"].id),
    ),
    ("amal", "tag all into gold", lambda w, a: bulk_tagging.tag_all(w.store, a, w.project.id, _hits(w), "CUE", layer="gold")),
    ("amal", "merge sources", lambda w, a: ai.merge_sources(w.store, a, w.project.id, ["روبيو", "ماركو روبيو"], "روبيو")),
    ("amal", "split a source", lambda w, a: ai.split_source(w.store, a, w.project.id, "روبيو")),
    ("omar", "search another project", lambda w, a: S.search(w.store, a, w.project.id, "روبيو")),
    ("omar", "tag all in another project", lambda w, a: bulk_tagging.tag_all(w.store, a, w.project.id, _hits(w), "CUE")),
    ("omar", "read another project's sources", lambda w, a: ai.attribution_index(w.store, a, w.project.id)),
    ("rana", "merge sources in another project", lambda w, a: ai.merge_sources(w.store, a, w.other_project.id, ["a", "b"], "a")),
    ("badr-deactivated", "search", lambda w, a: S.search(w.store, a, w.project.id, "روبيو")),
    ("badr-deactivated", "tag all", lambda w, a: bulk_tagging.tag_all(w.store, a, w.project.id, _hits(w), "CUE")),
    ("nobody", "search", lambda w, a: S.find_hits(w.store, a, w.project.id, "روبيو")),
    # nobody logged in
    ("nobody", "add a span", lambda w, a: A.add_span(w.store, a, w.doc.id, "CLAIM", 0, 5)),
    ("nobody", "read a document", lambda w, a: projects.get_document(w.store, a, w.doc.id)),
]


def _hits(w: World) -> list:
    """Hits of «روبيو» in the demo project, found by the admin (a read: writes nothing)."""
    return S.find_hits(w.store, w.u["admin"], w.project.id, "روبيو")


def actor(w: World, who: str):
    if who == "nobody":
        return None
    if who == "omar":
        return w.omar
    if who == "badr-deactivated":
        badr = w.u["badr"]
        auth.deactivate(w.store, w.u["admin"], badr.id)
        return badr  # the stale object an open session would still hold (active=True)
    return w.u[who]


@pytest.mark.parametrize(("who", "what", "call"), DENIALS, ids=[f"{who}: {what}" for who, what, _ in DENIALS])
def test_denied(w, who, what, call):
    a = actor(w, who)
    refused(w, lambda w: call(w, a))


# The same kinds of action by someone allowed: they succeed and do change the database.
ALLOWED = [
    ("amal", "edit own span", lambda w, a: A.update_span(w.store, a, w.amal_claim.id, label="QUOTE")),
    ("amal", "delete own link", lambda w, a: A.delete_link(w.store, a, w.amal_link.id)),
    ("amal", "comment on own span", lambda w, a: review.add_comment(w.store, a, "span", w.amal_claim.id, "why?")),
    ("rana", "accept a span", lambda w, a: review.decide(w.store, a, "span", w.badr_claim.id, "accepted", 0)),
    ("rana", "edit a gold span", lambda w, a: A.update_span(w.store, a, w.gold.id, label="QUOTE")),
    ("rana", "adopt agreed spans", lambda w, a: review.adopt_agreed(w.store, a, w.doc.id)),
    ("omar", "add a span in his project", lambda w, a: A.add_span(w.store, a, w.other_doc.id, "CLAIM", 0, 4)),
    ("admin", "edit another annotator's span", lambda w, a: A.update_span(w.store, a, w.badr_claim.id, label="QUOTE")),
    (
        "admin",
        "edit a label",
        lambda w, a: labels.save_label(w.store, a, w.project.id, {"name": "X", "kind": "other"}, w.label.id),
    ),
    ("admin", "create a user", lambda w, a: auth.create_user(w.store, a, "eve", "annotator", "eve-password")),
    ("admin", "write the guidelines", lambda w, a: guidelines.save_guidelines(w.store, a, w.project.id, "CLAIM: anything")),
    ("admin", "join another project", lambda w, a: projects.add_member(w.store, a, w.other_project.id, w.u["amal"].id)),
    ("amal", "tag all in her layer", lambda w, a: bulk_tagging.tag_all(w.store, a, w.project.id, _hits(w), "CUE")),
    ("rana", "merge sources", lambda w, a: ai.merge_sources(w.store, a, w.project.id, ["روبيو", "ماركو روبيو"], "روبيو")),
]


@pytest.mark.parametrize(("who", "what", "call"), ALLOWED, ids=[f"{who}: {what}" for who, what, _ in ALLOWED])
def test_allowed_counterparts_do_change_the_database(w, who, what, call):
    before = snapshot(w.store)
    call(w, actor(w, who))
    assert snapshot(w.store)[0] != before[0]


def test_reads_that_are_allowed(w):
    """What each role may read, so the denials above are about the other person's ids, not the function."""
    amal, rana, omar = w.u["amal"], w.u["rana"], w.omar
    assert [s.id for s in A.list_spans(w.store, amal, w.doc.id)] == [w.amal_source.id, w.amal_claim.id]
    assert [s.id for s in A.list_spans(w.store, amal, w.doc.id, layer="gold")] == [w.gold.id]  # gold is shared
    assert {s.id for s in A.list_spans(w.store, rana, w.doc.id, annotator_id=amal.id)} == {w.amal_claim.id, w.amal_source.id}
    assert projects.get_document(w.store, omar, w.other_doc.id).id == w.other_doc.id
    assert [p.id for p in projects.list_projects(w.store, omar)] == [w.other_project.id]


def test_a_blind_annotator_cannot_map_others_links_by_guessing_ids(w):
    amal = w.u["amal"]
    every_span = {w.amal_claim.id, w.amal_source.id, w.badr_claim.id, w.badr_source.id}
    assert [k.id for k in A.list_links(w.store, amal, w.doc.id, every_span)] == [w.amal_link.id]
    projects.update_settings(w.store, w.u["admin"], w.project.id, show_others=True)
    assert [k.id for k in A.list_links(w.store, amal, w.doc.id, every_span)] == [w.amal_link.id, w.badr_link.id]
