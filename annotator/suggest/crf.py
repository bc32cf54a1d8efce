"""The learned engine: one linear-chain CRF (python-crfsuite) per label over the rule engine's tokens, tagging
B/I/O, with features from the folded form, clitics, quotation marks, distance to the nearest cue and the rules'
own output. Trained on a project's gold spans; deterministic for a given model.

A model is plain data: ``{"labels": [...], "models": {label: base64 bytes}}`` (no pickle: the database is not
trusted to hold code).
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from annotator.suggest.lexicon import Lexicon
from annotator.suggest.rules import RuleEngine
from annotator.suggest.tokens import Tokens
from annotator.suggest.words import COMPLEMENTIZERS, COMPLEMENTIZERS_WITH_PRONOUN

ENGINE = "crf"
TRAINER_PARAMS = {"c1": 0.05, "c2": 0.05, "max_iterations": 80, "feature.possible_transitions": True}
CLITICS = "وفبل"

SpanT = tuple[str, int, int]


@dataclass
class Features:
    """A text's tokens, their feature lists, and the rule engine's draft for it (links come from there)."""

    tokens: Tokens
    xseq: list[list[str]]
    rule_spans: dict[str, tuple[str, int, int, dict]]
    rule_links: set[tuple[str, str, str]]


def _distance_bucket(d: int | None) -> str:
    if d is None:
        return "none"
    sign = "-" if d < 0 else "+"
    d = abs(d)
    return "0" if d == 0 else sign + ("1" if d == 1 else "2" if d == 2 else "3-5" if d <= 5 else "6-10" if d <= 10 else ">10")


def _nearest(positions: list[int], n: int) -> list[int | None]:
    """Signed distance from every index to the nearest of ``positions`` (two sweeps)."""
    out: list[int | None] = [None] * n
    pos = set(positions)
    last = None
    for i in range(n):
        if last is not None:
            out[i] = i - last
        if i in pos:
            last, out[i] = i, 0
    nxt = None
    for i in range(n - 1, -1, -1):
        if i in pos:
            nxt = i
        if nxt is not None and (out[i] is None or nxt - i < abs(out[i])):
            out[i] = i - nxt
    return out


def features(text: str, lexicon: Lexicon) -> Features:
    """Feature lists for every token of ``text``."""
    eng = RuleEngine(text, lexicon)
    draft = eng.run()
    t = eng.t
    n = len(t)
    cue_tokens = sorted({i for f in eng.found for i in range(f.i, f.j)})
    dist = _nearest(cue_tokens, n)
    quoted = eng._quoted_tokens()
    rule_bio = {label: _bio(t, [(s, e) for (lab, s, e, _a) in draft.spans.values() if lab == label]) for label in _labels(draft)}
    xseq = []
    for i in range(n):
        f = t.form[i]
        feats = [f"f={f}", f"k={t.kind[i]}", f"s2={f[-2:]}", f"d={_distance_bucket(dist[i])}"]
        if t.kind[i] == "w" and len(f) > 3 and f[0] in CLITICS:
            feats += [f"p1={f[0]}", f"stem={f[1:]}"]
        if i in quoted:
            feats.append("inq")
        if f in COMPLEMENTIZERS or f in COMPLEMENTIZERS_WITH_PRONOUN:
            feats.append("comp")
        for label, bio in rule_bio.items():
            feats.append(f"r{label}={bio[i]}")
        for off in (-2, -1, 1, 2):
            j = i + off
            feats.append(f"f{off}={t.form[j] if 0 <= j < n else '<s>'}")
        xseq.append(feats)
    return Features(t, xseq, draft.spans, draft.links)


def _labels(draft) -> set[str]:
    return {lab for (lab, _s, _e, _a) in draft.spans.values()}


def _bio(t: Tokens, spans: Iterable[tuple[int, int]]) -> list[str]:
    """B/I/O per token for character spans (a token inside a span is I, the first one B)."""
    tags = ["O"] * len(t)
    for s, e in spans:
        i = bisect_left(t.start, s)
        first = True
        while i < len(t) and t.end[i] <= e:
            tags[i] = "B" if first else "I"
            first = False
            i += 1
    return tags


def _spans_from_bio(t: Tokens, tags: list[str]) -> list[tuple[int, int]]:
    out, start, last = [], None, None
    for i, tag in enumerate([*tags, "O"]):
        if tag in ("O", "B") and start is not None:
            out.append((t.start[start], t.end[last]))
            start = None
        if tag == "B" or (tag == "I" and start is None):
            start = i
        if tag != "O":
            last = i
    return out


def train(examples: list[tuple[str, list[SpanT]]], labels: list[str], lexicon: Lexicon) -> dict:
    """A model from (text, gold spans) examples: one CRF per label, returned as plain data."""
    import pycrfsuite

    feats = [(features(text, lexicon), spans) for text, spans in examples]
    models = {}
    for label in labels:
        trainer = pycrfsuite.Trainer(verbose=False)
        for f, spans in feats:
            trainer.append(f.xseq, _bio(f.tokens, [(s, e) for lab, s, e in spans if lab == label]))
        trainer.set_params(TRAINER_PARAMS)
        fd, path = tempfile.mkstemp(suffix=".crfsuite")
        os.close(fd)
        try:
            trainer.train(path)
            with open(path, "rb") as fh:
                models[label] = base64.b64encode(fh.read()).decode("ascii")
        finally:
            os.unlink(path)
    blob = "".join(models[label] for label in labels)
    return {"labels": list(labels), "models": models, "hash": hashlib.sha256(blob.encode()).hexdigest()[:10]}


def predict(text: str, model: dict, lexicon: Lexicon) -> tuple[list[tuple[str, int, int]], list[tuple[str, str, str]]]:
    """Spans (label, start, end) the model tags in ``text`` and the rules' links between them."""
    import pycrfsuite

    f = features(text, lexicon)
    spans: list[tuple[str, int, int]] = []
    for label in model["labels"]:
        data = base64.b64decode(model["models"][label])  # held here: open_inmemory does not copy it (freed → crash)
        tagger = pycrfsuite.Tagger()
        tagger.open_inmemory(data)
        tags = tagger.tag(f.xseq)
        tagger.close()
        del data
        spans += [(label, s, e) for s, e in _spans_from_bio(f.tokens, tags)]
    keys = {f"{lab}:{s}:{e}" for lab, s, e in spans}
    links = [(a, typ, b) for a, typ, b in sorted(f.rule_links) if a in keys and b in keys]
    return spans, links
