"""The article component's direct channel: actions over HTTP, applied once, answered with the delta; refusals.

The core of it (:func:`answer`) is driven directly on both engines; the route through the gate with raw ASGI
calls (as tests/test_gate.py does). The real browser uses it in every annotation browser test, and
tests/browser/test_annotation_loop_browser.py checks the way back to the trigger when it is refused."""

from __future__ import annotations

import dataclasses
import gc
import json
import uuid

import pytest
from test_gate import ORIGIN, cookie_header, http, login

from annotator.article_sync import ArticleSync
from annotator.ui import article_channel
from annotator.ui.article_channel import CHANNEL_PATH, Refused, answer, open_channel


def _open(demo, user, doc, ui=None):
    sync = ArticleSync(demo, user, doc)
    channel = open_channel(demo, user, doc, sync, layer="annotator", snap_words=True, ui=ui or {"snap_words": True})
    return sync, channel["token"]


def _tag(cid, start, end, label="CLAIM", doc_id=None):
    """A tag action; its id made unique as the component makes its own (a random prefix per page): the server
    remembers applied ids per user for its whole process, and this process runs each test on two databases."""
    cid = f"{uuid.uuid4().hex[:8]}.{cid}"
    return {"cid": cid, "type": "tag", "label": label, "start": start, "end": end, "doc_id": doc_id}


def test_an_action_is_saved_once_and_answered_with_the_change(demo, users, demo_doc):
    amal = users["amal"]
    sync, token = _open(demo, amal, demo_doc)
    first = json.loads(answer(amal, {"token": token, "epoch": None, "base": None, "ops": []}))
    assert first["full"]["spans"] == [] and first["ui"]["channel"]["token"] == token
    op = _tag("m.1", 0, 4, doc_id=demo_doc.id)
    msg = {"token": token, "epoch": first["epoch"], "base": first["rev"], "ops": [op]}
    reply = json.loads(answer(amal, msg))
    (span,) = demo.list_spans(demo_doc.id)
    assert demo_doc.text[span.start_offset : span.end_offset] == span.text
    assert reply["base"] == first["rev"] and reply["rev"] == first["rev"] + 1 and "full" not in reply
    assert [s["id"] for s in reply["delta"]["spans"]] == [span.id]
    assert reply["acks"][-1] == {"cid": op["cid"], "kind": "saved", "message": f"Saved CLAIM «{span.text}»", "select": span.id}
    again = json.loads(answer(amal, {**msg, "base": reply["rev"]}))  # the same action again (a resend): answered only
    assert len(demo.list_spans(demo_doc.id)) == 1 and again["acks"][-1]["cid"] == op["cid"] and "delta" not in again
    assert sync.client_rev == reply["rev"]  # the page's next rerun builds on what the browser has


def test_a_refused_action_is_acknowledged_as_an_error_and_saves_nothing(demo, users, demo_doc):
    amal = users["amal"]
    sync, token = _open(demo, amal, demo_doc)
    reply = json.loads(answer(amal, {"token": token, "epoch": sync.epoch, "base": 0, "ops": [_tag("m.1", 0, 4, "NOPE")]}))
    assert reply["acks"][-1]["kind"] == "error" and "NOPE" in reply["acks"][-1]["message"]
    assert demo.list_spans(demo_doc.id) == []


@pytest.mark.parametrize(
    "payload, status",
    [
        ("not a dict", 400),
        ({"token": "x"}, 400),
        ({"token": "x", "ops": "tag"}, 400),
        ({"token": "unknown", "ops": []}, 409),
    ],
)
def test_malformed_messages_and_unknown_tokens_are_refused(demo, users, payload, status):
    with pytest.raises(Refused) as refused:
        answer(users["amal"], payload)
    assert refused.value.status == status


def test_another_users_session_or_a_changed_role_cannot_use_a_channel(demo, users, demo_doc):
    sync, token = _open(demo, users["amal"], demo_doc)
    for other in (users["badr"], dataclasses.replace(users["amal"], role="reviewer")):
        with pytest.raises(Refused) as refused:
            answer(other, {"token": token, "epoch": sync.epoch, "base": 0, "ops": [_tag("b.1", 0, 4)]})
        assert refused.value.status == 409
    assert demo.list_spans(demo_doc.id) == []


def test_moving_to_another_document_is_left_to_the_page(demo, users, demo_doc):
    sync, token = _open(demo, users["amal"], demo_doc)
    with pytest.raises(Refused) as refused:
        answer(users["amal"], {"token": token, "epoch": sync.epoch, "base": 0, "ops": [{"cid": "n.1", "type": "nav", "step": 1}]})
    assert refused.value.status == 400


def test_a_channel_ends_with_its_session(demo, users, demo_doc):
    sync, token = _open(demo, users["amal"], demo_doc)
    del sync
    gc.collect()
    with pytest.raises(Refused) as refused:
        answer(users["amal"], {"token": token, "epoch": None, "base": None, "ops": []})
    assert refused.value.status == 409
    assert token not in article_channel._CHANNELS or article_channel._CHANNELS[token].sync() is None


# ---- through the gate, as the browser posts ----------------------------------------------------------------


@pytest.fixture
def app(demo, monkeypatch):
    from starlette.applications import Starlette

    from annotator.ui.gate import LoginGate

    if demo.backend_name == "sqlite":
        monkeypatch.delenv("NISBA_SECRET_FILE", raising=False)
    gate = LoginGate(demo.path)
    return Starlette(routes=[*gate.routes(), *article_channel.routes(gate)], middleware=[gate.middleware()])


def _post(app, body, **headers):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http(app, "POST", CHANNEL_PATH, headers={"content-type": "application/json", **headers}, raw=raw)


def test_the_route_saves_for_the_logged_in_user_and_refuses_everyone_else(app, demo, users, demo_doc):
    sync, token = _open(demo, users["amal"], demo_doc)
    msg = {"token": token, "epoch": sync.epoch, "base": None, "ops": [_tag("r.1", 0, 4, doc_id=demo_doc.id)]}
    assert _post(app, msg, origin=ORIGIN).status == 401  # no session: the gate refuses it
    amal = cookie_header(login(app, "amal"))
    assert _post(app, msg, cookie=amal, origin="https://evil.example").status == 403
    assert _post(app, msg, cookie=amal).status == 403  # neither Origin nor Referer
    badr = cookie_header(login(app, "badr"))
    assert _post(app, msg, cookie=badr, origin=ORIGIN).status == 409
    assert _post(app, b"{not json", cookie=amal, origin=ORIGIN).status == 400
    assert _post(app, b" " * (article_channel.MAX_BODY_BYTES + 1), cookie=amal, origin=ORIGIN).status == 413
    assert demo.list_spans(demo_doc.id) == []
    reply = _post(app, msg, cookie=amal, origin=ORIGIN)
    assert reply.status == 200 and reply.header("content-type") == "application/json"
    body = json.loads(reply.body)
    assert body["acks"][-1]["kind"] == "saved" and [s["l"] for s in body["full"]["spans"]] == ["CLAIM"]
    assert [s.annotator_id for s in demo.list_spans(demo_doc.id)] == [users["amal"].id]


def test_refusals_are_one_line_json_never_a_traceback(app, demo, users, demo_doc):
    amal = cookie_header(login(app, "amal"))
    reply = _post(app, {"token": "gone", "ops": []}, cookie=amal, origin=ORIGIN)
    assert reply.status == 409 and set(json.loads(reply.body)) == {"error"} and b"Traceback" not in reply.body
