"""The learned suggestion engine of a project: train a CRF on the project's gold layer and on annotators' finished
layers that used suggestions, store it with its version, size, time and cross-validated figures, and tell whether
it may be used (enough gold, the same label scheme)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from annotator import access
from annotator.errors import NisbaError
from annotator.models import Document, User
from annotator.store import Store
from annotator.suggest import Suggestion, engine_version
from annotator.suggest.evaluate import GoldDoc, score
from annotator.text import text_sha256

ENGINE = "crf"
MIN_TRAINING_DOCUMENTS = 8  # fewer, and a 3-fold cross-validation has 2 texts to test on: the figures mean nothing
FOLDS = 3


class NotEnoughGold(NisbaError):
    """Too little annotated text to train on: the rules serve alone."""


class ModelNotUsable(NisbaError):
    """No trained model, or one trained on another label scheme: says why; the rules serve alone."""


def training_examples(store: Store, project_id: int) -> list[tuple[Document, list[tuple[str, int, int]]]]:
    """(document, spans) to learn from: each document's gold layer; where there is no gold, each annotator layer
    the annotator marked done and that holds accepted suggestions (a finished layer, so its gaps are negatives)."""
    examples = []
    for doc in store.list_documents(project_id):
        gold = store.list_spans(doc.id, layer="gold")
        if gold:
            examples.append((doc, [(s.label, s.start_offset, s.end_offset) for s in gold]))
            continue
        for uid in store.document_annotator_ids(doc.id):
            if store.get_status(doc.id, uid) != "submitted":
                continue
            spans = store.list_spans(doc.id, annotator_ids=[uid], layer="annotator")
            if any(s.origin.get("engine") for s in spans):
                examples.append((doc, [(s.label, s.start_offset, s.end_offset) for s in spans]))
    return examples


def _lexicon(store: Store, project_id: int):
    from annotator.suggest.lexicon import build_lexicon, default_cues
    from annotator.suggestions import project_cues

    return build_lexicon(default_cues() + project_cues(store, project_id))


def _cross_validate(examples, labels, lexicon) -> list[dict]:
    """Exact and overlap F1 per label, each document scored by a model trained on the other folds."""
    from annotator.suggest import crf

    def triples():
        for k in range(FOLDS):
            train_set = [(d.text, s) for i, (d, s) in enumerate(examples) if i % FOLDS != k]
            model = crf.train(train_set, labels, lexicon)
            for i, (doc, spans) in enumerate(examples):
                if i % FOLDS == k:
                    predicted, _links = crf.predict(doc.text, model, lexicon)
                    gold = GoldDoc(str(doc.id), doc.text, frozenset(spans), frozenset())
                    yield gold, frozenset(predicted), frozenset()

    return [r for r in score(triples(), ENGINE) if r["label"] != "LINK"]


def train_project_model(store: Store, actor: User, project_id: int) -> dict:
    """Train and store the project's CRF (admins); returns its status (see :func:`model_status`).
    Raises NotEnoughGold when fewer than ``MIN_TRAINING_DOCUMENTS`` documents can be learned from."""
    from annotator.suggest import crf

    user = access.require_admin(store, actor)
    store.get_project(project_id)
    examples = training_examples(store, project_id)
    if len(examples) < MIN_TRAINING_DOCUMENTS:
        raise NotEnoughGold(
            f"Too little annotated text to train on: {len(examples)} document layer(s) with gold spans or finished "
            f"layers that used suggestions; at least {MIN_TRAINING_DOCUMENTS} are needed. The rules serve alone."
        )
    labels = sorted({s[0] for _d, spans in examples for s in spans})
    lexicon = _lexicon(store, project_id)
    t0 = time.perf_counter()
    model = crf.train([(d.text, s) for d, s in examples], labels, lexicon)
    seconds = time.perf_counter() - t0
    cv = _cross_validate(examples, labels, lexicon)
    row = {
        "engine": ENGINE, "version": f"crf-{model['hash']}", "labels": labels, "training_documents": len(examples),
        "training_spans": sum(len(s) for _d, s in examples), "seconds": round(seconds, 2), "cross_validation": cv,
        "model": model,
    }  # fmt: skip
    with store.write():
        model_id = store.insert_suggestion_model(project_id, row, user.id)
        after = {k: row[k] for k in ("version", "labels", "training_documents", "training_spans", "seconds")}
        store.record_event(user.id, "train", "suggestion_model", model_id, after=after)
    return model_status(store, user, project_id)


def _unusable_reason(store: Store, project_id: int, row: dict | None) -> str:
    if row is None:
        return "No learned model has been trained in this project: the rules serve alone."
    scheme = {lab.name for lab in store.list_labels(project_id)}
    missing = [lab for lab in row["labels"] if lab not in scheme]
    if missing:
        return (
            f"The learned model {row['version']} was trained on labels the project no longer has ({', '.join(missing)}); "
            "it is not used. Train it again."
        )
    return ""


def model_status(store: Store, actor: User, project_id: int) -> dict | None:
    """The latest model's version, labels, training size, time, cross-validated figures and whether it is used
    (``usable``, ``reason``), for members of the project; None when none was trained."""
    access.require_project(store, actor, project_id)
    row = store.latest_suggestion_model(project_id, ENGINE, with_model=False)
    if row is None:
        return None
    reason = _unusable_reason(store, project_id, row)
    return {**row, "usable": not reason, "reason": reason}


_cache: OrderedDict[tuple, list[Suggestion]] = OrderedDict()
_lock = threading.Lock()


def crf_suggestions(store: Store, doc: Document) -> list[Suggestion]:
    """The learned engine's suggestions for a document (no access check: callers check), cached by text hash,
    model version and lexicon version. Raises ModelNotUsable with the reason when there is no usable model."""
    from annotator.suggest import crf
    from annotator.suggestions import project_cues

    row = store.latest_suggestion_model(doc.project_id, ENGINE)
    reason = _unusable_reason(store, doc.project_id, row)
    if reason:
        raise ModelNotUsable(reason)
    key = (doc.text_sha256 or text_sha256(doc.text), row["version"], engine_version(project_cues(store, doc.project_id)))
    with _lock:
        if key in _cache:
            return _cache[key]
    spans, links = crf.predict(doc.text, row["model"], _lexicon(store, doc.project_id))
    by_source: dict[str, list[tuple[str, str]]] = {}
    for a, typ, b in links:
        by_source.setdefault(a, []).append((typ, b))
    out = sorted(
        (
            Suggestion(
                f"{lab}:{s}:{e}", lab, s, e, doc.text[s:e], ENGINE, row["version"], tuple(by_source.get(f"{lab}:{s}:{e}", ()))
            )
            for lab, s, e in set(spans)
        ),
        key=lambda x: (x.start, x.end, x.label),
    )
    with _lock:
        _cache[key] = out
        while len(_cache) > 16:
            _cache.popitem(last=False)
    return out
