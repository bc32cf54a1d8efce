"""The article component: a right-to-left Arabic article to highlight with the mouse, and the actions it sends.

A Streamlit components v2 component (inline HTML/CSS/JS, open shadow root, no build step). The browser sends
the selection and the selected span as *state* and one-shot *actions* as a trigger; :func:`apply_action`
turns an action into calls of the core (annotator.annotations), so the database decides what is saved and the
next render, built from the database, shows exactly that. Offsets are Python code points everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from annotator import access
from annotator.annotations import add_link, add_span, delete_link, delete_span, list_links, list_spans, undo_last, update_span
from annotator.errors import InvalidSpan, NisbaError
from annotator.models import Document, Link, Span, User
from annotator.render import component_payload
from annotator.store import Store
from annotator.text import snap

FONT_BASE = "/app/static/fonts/"  # .streamlit/config.toml enables static serving of ./static at /app/static

HTML = """
<div class="nisba" data-nisba="root">
  <div class="bar" dir="ltr">
    <span class="labels" data-nisba="labels"></span>
    <button type="button" class="tool" data-nisba="undo" title="Undo your last action (Ctrl+Z)">↶ Undo</button>
    <span class="status" data-nisba="status" role="status" aria-live="polite"></span>
  </div>
  <div class="panel" dir="ltr" data-nisba="panel"></div>
  <div class="article" dir="rtl" lang="ar" data-nisba="article"></div>
</div>
"""

CSS = """
:host { display: block; }
.nisba { font-family: var(--st-font, system-ui, sans-serif); color: var(--st-text-color); }
.bar { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; margin-bottom: .4rem; }
.labels { display: contents; }
.bar button, .panel button, .panel select {
  font: inherit; font-size: .85rem; padding: .15rem .6rem; border-radius: .4rem; cursor: pointer;
  border: 1px solid var(--st-border-color, #ccc); background: var(--st-secondary-background-color, #f3f3f3);
  color: var(--st-text-color);
}
.bar button[data-nisba-label] { border-inline-start: .6rem solid var(--swatch); }
.bar button kbd, .panel button kbd { font-size: .75em; opacity: .7; margin-inline-start: .3em; }
.status { font-size: .85rem; margin-inline-start: auto; min-height: 1.2em; }
.status[data-kind="error"] { color: #b00020; font-weight: 600; }
.status[data-kind="saved"] { color: #1b7f3b; }
.panel { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; min-height: 2.2rem; font-size: .85rem;
  padding: .2rem .4rem; border-radius: .4rem; background: var(--st-secondary-background-color, #f6f6f6); margin-bottom: .4rem; }
.panel .hint { opacity: .7; }
.panel .chip { padding: .05rem .5rem; border-radius: .3rem; font-weight: 600; }
.panel .quote { font-family: "Noto Naskh Arabic", "Amiri", serif; font-size: 1rem; unicode-bidi: isolate; }
.panel button.on { outline: 2px solid var(--st-primary-color, #ff4b4b); }
.article {
  direction: rtl; unicode-bidi: isolate; text-align: right;
  white-space: pre-wrap;   /* newlines kept; the DOM text equals the stored text */
  font-family: "Noto Naskh Arabic", "Amiri", serif; font-size: 1.35rem; line-height: 2.5;
  padding: .6rem 1rem; border: 1px solid var(--st-border-color, #ddd); border-radius: .5rem;
  max-height: 70vh; overflow-y: auto; user-select: text; cursor: text;
}
.article.linking { cursor: crosshair; }
mark { background: transparent; color: inherit; padding: 0; }
mark.piece { border-radius: .15rem; cursor: pointer; }
/* the label name: CSS only, so no character enters the article's text nodes and offsets stay exact */
mark.piece[data-opens]::before {
  content: attr(data-opens); unicode-bidi: isolate; direction: ltr; font: 600 .5rem/1 system-ui, sans-serif;
  vertical-align: super; opacity: .75; margin-inline-end: .15rem; user-select: none; pointer-events: none;
}
mark.sel { outline: 2px solid var(--st-primary-color, #ff4b4b); outline-offset: 1px; }
.article.linking mark.target { outline: 2px dashed #1565c0; }
"""

JS = r"""
// ---- helpers -------------------------------------------------------------------------------------
const cpLen = (s) => { let n = 0; for (const _ of s) n++; return n; };          // Python str length
const BG = 'var(--st-background-color, #fff)';

function registerFont(base) {
  // @font-face inside a shadow root is unreliable: register the face once on the document.
  if (document.getElementById('nisba-font')) return;
  const style = document.createElement('style');
  style.id = 'nisba-font';
  style.textContent = [400, 700].map((w) =>
    `@font-face{font-family:"Noto Naskh Arabic";font-style:normal;font-weight:${w};font-display:swap;` +
    `src:url("${base}noto-naskh-arabic-arabic-${w}-normal.woff2") format("woff2");}`).join('\n');
  document.head.appendChild(style);
}

// one document-level keydown listener for the page; each render points it at the current handler
function installKeys() {
  const g = (window.__nisbaKeys ??= { handler: null, installed: false });
  if (!g.installed) {
    document.addEventListener('keydown', (e) => g.handler && g.handler(e), true);
    g.installed = true;
  }
  return g;
}

function isTyping(e) {
  const t = e.composedPath ? e.composedPath()[0] : e.target;
  if (!t || !t.tagName) return false;
  if (t.tagName === 'INPUT') return !/^(checkbox|radio|button|submit|reset|range)$/.test(t.type);
  return /^(TEXTAREA|SELECT)$/.test(t.tagName) || t.isContentEditable;
}

function keyIs(e, ch) {   // the key as typed, or the physical key (analysts type on an Arabic layout)
  if (!ch) return false;
  ch = ch.toLowerCase();
  if ((e.key || '').toLowerCase() === ch) return true;
  if (/^[a-z]$/.test(ch)) return e.code === 'Key' + ch.toUpperCase();
  if (/^[0-9]$/.test(ch)) return e.code === 'Digit' + ch;
  return false;
}

export default function (component) {
  const { data: wire, parentElement, setStateValue, setTriggerValue } = component;
  const root = parentElement;
  const box = root.querySelector('[data-nisba="article"]');
  const status = root.querySelector('[data-nisba="status"]');
  const panel = root.querySelector('[data-nisba="panel"]');
  const labelBar = root.querySelector('[data-nisba="labels"]');
  const undoBtn = root.querySelector('[data-nisba="undo"]');
  registerFont(wire.font_base);

  // state that must survive re-invocations of this function (it runs again whenever `data` changes)
  const S = (root.__nisba ??= { rev: null, text: null, cps: null, bounds: null, selected: null,
    selectSeq: undefined, link: null, pending: null, statusSeq: -1, sentSel: null, t0: null,
    drawnRev: null, drawn: null });
  // what is drawn (text, segments, spans, labels, links) arrives as one JSON string, parsed only when its
  // `rev` changed: a rerun for a selection or a status message costs no parse of a long article
  if (S.drawnRev !== wire.rev || S.drawn === null) { S.drawn = JSON.parse(wire.drawn); S.drawnRev = wire.rev; }
  const data = Object.assign({}, S.drawn, wire);
  delete data.drawn;
  const spans = new Map(data.spans.map((s) => [s.id, s]));
  const labels = new Map(data.labels.map((l) => [l.name, l]));
  const kindOf = (span) => (labels.get(span.label) || {}).kind;
  const spanText = (span) => S.cps.slice(span.start, span.end).join('');

  if (S.text !== data.text) { S.text = data.text; S.cps = Array.from(data.text); S.bounds = null; }
  const cps = S.cps;

  // ---- render the article (only when what is drawn changed: keeps the analyst's selection otherwise)
  if (S.rev !== data.rev) {
    S.rev = data.rev;
    const frag = document.createDocumentFragment();
    for (const seg of data.segments) {
      const text = cps.slice(seg.start, seg.end).join('');
      if (!seg.ids.length) {
        const el = document.createElement('span');
        el.dataset.start = seg.start; el.dataset.end = seg.end;
        el.textContent = text;
        frag.appendChild(el);
        continue;
      }
      // one <mark> per covering span, outermost first; the innermost holds the text and the colours
      let parent = frag, piece = null;
      for (const id of seg.ids) {
        const sp = spans.get(id);
        const m = document.createElement('mark');
        m.dataset.spanId = id; m.dataset.label = sp.label;
        m.dataset.start = seg.start; m.dataset.end = seg.end;
        parent.appendChild(m); parent = m; piece = m;
      }
      const chain = seg.ids.map((id) => spans.get(id));
      const inner = chain[chain.length - 1];
      piece.classList.add('piece');
      piece.textContent = text;
      piece.style.backgroundColor = `color-mix(in srgb, ${inner.colour} 60%, transparent)`;
      // stacked underlines, one track per overlapping span (a span keeps its track along its length):
      // a 1px gap then a 3px band per track; the first shadow in the list is painted on top
      const byTrack = new Map(chain.map((s) => [s.track, s]));
      const maxTrack = Math.max(...chain.map((s) => s.track));
      const shadows = [];
      for (let t = 0; t <= maxTrack; t++) {
        const s = byTrack.get(t);
        shadows.push(`0 ${4 * t + 1}px 0 0 ${BG}`);
        shadows.push(`0 ${4 * t + 4}px 0 0 ${s ? `color-mix(in srgb, ${s.colour} 70%, #000)` : BG}`);
      }
      piece.style.boxShadow = shadows.join(',');
      const opens = chain.filter((s) => s.start === seg.start).map((s) => s.label);
      if (opens.length) piece.dataset.opens = opens.join(' ');
      piece.title = chain.map((s) => s.label + (Object.keys(s.attributes).length ?
        ' (' + Object.entries(s.attributes).map(([k, v]) => `${k}: ${v}`).join(', ') + ')' : '')).join(' › ');
    }
    box.replaceChildren(frag);
    box.dataset.rev = data.rev;
    if (S.t0 !== null) { window.__nisbaLastPaint = performance.now() - S.t0; S.t0 = null; }
  }

  // ---- the label buttons
  if (labelBar.dataset.rev !== data.rev) {
    labelBar.dataset.rev = data.rev;
    labelBar.replaceChildren(...data.labels.map((l) => {
      const b = document.createElement('button');
      b.type = 'button'; b.dataset.nisbaLabel = l.name; b.style.setProperty('--swatch', l.colour);
      b.title = l.description || l.name;
      b.append(l.name);
      if (l.hotkey) { const k = document.createElement('kbd'); k.textContent = l.hotkey; b.append(k); }
      b.onmousedown = (e) => e.preventDefault();    // keep the text selection alive
      b.onclick = () => applyLabel(l.name);
      return b;
    }));
  }
  undoBtn.onmousedown = (e) => e.preventDefault();
  undoBtn.onclick = () => send({ type: 'undo' });

  // ---- code-point offsets <-> DOM positions
  function pieceOf(node) {
    const el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    return el && el.closest ? el.closest('[data-start]') : null;
  }
  function offsetOf(node, off) {
    if (node.nodeType === Node.TEXT_NODE) {
      const p = pieceOf(node);
      return Number(p.dataset.start) + cpLen(node.data.slice(0, off));
    }
    if (node === box) {
      const kids = box.childNodes;
      return off >= kids.length ? cps.length : Number(kids[off].dataset.start);
    }
    const p = pieceOf(node);
    return off === 0 ? Number(p.dataset.start) : Number(p.dataset.end);
  }
  function positionOf(cp) {   // [text node, UTF-16 offset] for a code-point offset
    let lo = 0, hi = data.segments.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (data.segments[mid].start <= cp) lo = mid; else hi = mid - 1; }
    const seg = data.segments[lo];
    let el = box.querySelector(`[data-start="${seg.start}"]`);
    while (el.firstElementChild) el = el.firstElementChild;
    const node = el.firstChild;
    return [node, cps.slice(seg.start, cp).join('').length];
  }

  // ---- grapheme and word boundaries (Intl.Segmenter), in code points, computed on first use
  function bounds() {
    if (S.bounds) return S.bounds;
    const text = data.text;
    const cpAt = new Uint32Array(text.length + 1);   // UTF-16 index -> code point index
    let cp = 0;
    for (let i = 0; i < text.length; i++) {
      cpAt[i] = cp;
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) { cpAt[i + 1] = cp; i++; }
      cp++;
    }
    cpAt[text.length] = cp;
    const graphemes = [];
    for (const g of new Intl.Segmenter('ar', { granularity: 'grapheme' }).segment(text)) graphemes.push(cpAt[g.index]);
    graphemes.push(cp);
    const words = [];
    for (const w of new Intl.Segmenter('ar', { granularity: 'word' }).segment(text))
      if (w.isWordLike) words.push([cpAt[w.index], cpAt[w.index + w.segment.length]]);
    return (S.bounds = { graphemes, words });
  }
  function snapRange(s, e) {
    const { graphemes: g, words } = bounds();
    let lo = 0, hi = g.length - 1;                   // last boundary <= s
    while (lo < hi) { const m = (lo + hi + 1) >> 1; if (g[m] <= s) lo = m; else hi = m - 1; }
    s = g[lo];
    lo = 0; hi = g.length - 1;                       // first boundary >= e
    while (lo < hi) { const m = (lo + hi) >> 1; if (g[m] >= e) hi = m; else lo = m + 1; }
    e = g[lo];
    if (data.snap_words) {
      for (const [ws, we] of words) {
        if (ws < s && s < we) s = ws;
        if (ws < e && e < we) e = we;
        if (ws >= e) break;
      }
      while (s < e && /\s/.test(cps[s])) s++;
      while (e > s && /\s/.test(cps[e - 1])) e--;
    }
    return [s, e];
  }

  // ---- the current text selection, read inside the shadow root
  function currentRange() {
    const sel = document.getSelection();
    if (!sel || sel.rangeCount === 0) return null;
    if (typeof sel.getComposedRanges === 'function' && root instanceof ShadowRoot) {
      const rs = sel.getComposedRanges({ shadowRoots: [root] });
      return rs && rs.length ? rs[0] : null;
    }
    return sel.getRangeAt(0);
  }
  function readSelection() {
    const r = currentRange();
    if (!r || r.collapsed) return null;
    const inBox = (n) => n === box || box.contains(n);
    const sIn = inBox(r.startContainer), eIn = inBox(r.endContainer);
    if (!sIn && !eIn) return null;
    let s = sIn ? offsetOf(r.startContainer, r.startOffset) : 0;
    let e = eIn ? offsetOf(r.endContainer, r.endOffset) : cps.length;
    if (e <= s) return null;
    [s, e] = snapRange(s, e);
    if (e <= s) return null;
    return { start: s, end: e };
  }
  function showSelection(sel) {   // make the browser selection match the snapped offsets
    try {
      const [a, ao] = positionOf(sel.start);
      const [b, bo] = positionOf(sel.end);
      const endPos = sel.end >= cps.length ? [b, b.data.length] : [b, bo];
      document.getSelection().setBaseAndExtent(a, ao, endPos[0], endPos[1]);
    } catch (err) { /* the highlight still shows the snapped span after saving */ }
  }

  // ---- talking to Python
  function setStatus(kind, message) { status.dataset.kind = kind; status.textContent = message; }
  function send(action) {
    S.t0 = performance.now();
    setStatus('busy', 'saving…');
    setTriggerValue('action', { ...action, doc_id: data.doc_id });
  }
  function select(id) {
    S.selected = id;
    S.link = null;
    paintSelected();
    renderPanel();
    setStateValue('selected', id);
  }
  function applyLabel(name) {
    const sel = readSelection() || S.pending;
    if (sel) {
      send({ type: 'tag', label: name, start: sel.start, end: sel.end, snap_words: !!data.snap_words });
      S.pending = null;
      document.getSelection()?.removeAllRanges();
    } else if (S.selected !== null && spans.has(S.selected)) {
      const sp = spans.get(S.selected);
      if (sp.label !== name) send({ type: 'relabel', span_id: sp.id, label: name, version: sp.version });
    } else {
      setStatus('info', 'Select some text first, then press a label key.');
    }
  }
  function startLink(type) {
    const sp = spans.get(S.selected);
    if (!sp || kindOf(sp) !== 'content') { setStatus('info', 'Select a CLAIM or QUOTE first.'); return; }
    S.link = S.link === type ? null : type;
    paintSelected();
    renderPanel();
  }

  // ---- selection styling and the panel for the selected span
  function paintSelected() {
    if (S.selected !== null && !spans.has(S.selected)) S.selected = null;
    box.querySelectorAll('mark.sel').forEach((m) => m.classList.remove('sel'));
    box.querySelectorAll('mark.target').forEach((m) => m.classList.remove('target'));
    if (S.selected !== null) box.querySelectorAll(`mark[data-span-id="${S.selected}"]`).forEach((m) => m.classList.add('sel'));
    box.classList.toggle('linking', !!S.link);
    box.dataset.selected = S.selected ?? '';
    if (S.link) {
      const want = S.link === 'attributed_to' ? 'source' : 'cue';
      for (const sp of data.spans) if (kindOf(sp) === want)
        box.querySelectorAll(`mark[data-span-id="${sp.id}"]`).forEach((m) => m.classList.add('target'));
    }
  }
  function el(tag, props = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'data') Object.assign(e.dataset, v); else if (k === 'style') e.style.cssText = v; else e[k] = v;
    }
    e.append(...kids);
    return e;
  }
  function renderPanel() {
    const sp = S.selected !== null ? spans.get(S.selected) : null;
    panel.dataset.selected = sp ? sp.id : '';
    if (!sp) {
      panel.replaceChildren(el('span', { className: 'hint' },
        'Select text and press a label key · click a highlight to select it (again: the enclosing one) · n/p next/previous document'));
      return;
    }
    const lab = labels.get(sp.label) || { attributes: {} };
    const kids = [
      el('span', { className: 'chip', style: `background:${sp.colour}` }, sp.label),
      el('span', { className: 'quote', dir: 'rtl', lang: 'ar' }, '«' + spanText(sp) + '»'),   // text node, never HTML
    ];
    for (const [name, values] of Object.entries(lab.attributes || {})) {
      const sel = el('select', { data: { nisbaAttr: name }, title: name },
        el('option', { value: '' }, `${name}: —`),
        ...values.map((v) => el('option', { value: v, selected: sp.attributes[name] === v }, `${name}: ${v}`)));
      sel.onchange = () => send({ type: 'attr', span_id: sp.id, version: sp.version,
        attributes: { ...sp.attributes, [name]: sel.value } });
      kids.push(sel);
    }
    if (kindOf(sp) === 'content') {
      const a = el('button', { type: 'button', className: S.link === 'attributed_to' ? 'on' : '', data: { nisba: 'link-source' } },
        'Attributed to…', el('kbd', {}, 'a'));
      a.onclick = () => startLink('attributed_to');
      const c = el('button', { type: 'button', className: S.link === 'cue' ? 'on' : '', data: { nisba: 'link-cue' } },
        'Cue…', el('kbd', {}, 'l'));
      c.onclick = () => startLink('cue');
      kids.push(a, c);
    }
    for (const k of data.links) {
      if (k.from !== sp.id && k.to !== sp.id) continue;
      const other = spans.get(k.from === sp.id ? k.to : k.from);
      if (!other) continue;
      const x = el('button', { type: 'button', title: 'Remove this link', data: { nisba: 'unlink', linkId: k.id } },
        `${k.from === sp.id ? '→' : '←'} ${k.type === 'cue' ? 'cue' : 'source'} ${other.label} `,
        el('span', { className: 'quote', dir: 'rtl' }, '«' + spanText(other) + '»'), ' ×');
      x.onclick = () => send({ type: 'unlink', link_id: k.id });
      kids.push(x);
    }
    const del = el('button', { type: 'button', data: { nisba: 'delete' } }, 'Delete', el('kbd', {}, 'Del'));
    del.onclick = () => send({ type: 'delete', span_id: sp.id, version: sp.version });
    kids.push(del);
    if (S.link) kids.push(el('span', { className: 'hint' },
      S.link === 'attributed_to' ? 'Click the SOURCE span (Esc cancels)' : 'Click the CUE span (Esc cancels)'));
    panel.replaceChildren(...kids);
    panel.querySelectorAll('button').forEach((b) => { b.onmousedown = (e) => e.preventDefault(); });
  }

  // ---- Python's view of the selected span wins when it changed there (a table row was clicked)
  // a selection made in Python (a table row, a new span) arrives with a new select_seq; the browser's own
  // clicks keep theirs until then (state that did not change is not sent back, so ids alone are ambiguous)
  if (data.select_seq !== S.selectSeq) { S.selectSeq = data.select_seq; S.selected = data.selected; S.link = null; }
  paintSelected();
  renderPanel();
  if (data.status && data.status.seq !== S.statusSeq) {
    S.statusSeq = data.status.seq;
    setStatus(data.status.kind, data.status.message);
  }

  // ---- mouse: select text, click highlights (innermost first, again: the enclosing one), link targets
  box.onmouseup = () => {
    const sel = readSelection();
    S.pending = sel;
    if (!sel) return;
    showSelection(sel);
    const t = cps.slice(sel.start, sel.end).join('');
    setStatus('info', `«${t.length > 40 ? t.slice(0, 40) + '…' : t}» ${sel.start}–${sel.end}: press a label key`);
    if (!S.sentSel || S.sentSel.start !== sel.start || S.sentSel.end !== sel.end) {
      S.sentSel = sel;
      setStateValue('selection', sel);
    }
  };
  box.onclick = (e) => {
    if (readSelection()) return;                      // the end of a drag, not a click
    const piece = e.target.closest ? e.target.closest('mark') : null;
    if (!piece) { if (!S.link && S.selected !== null) select(null); return; }
    const chain = [];
    for (let m = piece; m && m !== box; m = m.parentElement) if (m.dataset.spanId) chain.unshift(Number(m.dataset.spanId));
    if (S.link) {
      const want = S.link === 'attributed_to' ? 'source' : 'cue';
      const target = [...chain].reverse().find((id) => kindOf(spans.get(id)) === want);
      if (target === undefined) { setStatus('error', `That is not a ${want.toUpperCase()} span.`); return; }
      send({ type: 'link', from_span_id: S.selected, to_span_id: target, link_type: S.link });
      S.link = null;
      paintSelected();
      return;
    }
    const i = chain.indexOf(S.selected);
    select(i > 0 ? chain[i - 1] : chain[chain.length - 1]);   // cycle outward, then back to the innermost
  };

  // ---- keyboard
  const keys = installKeys();
  const handler = (e) => {
    if (!box.isConnected || isTyping(e) || e.isComposing) return;
    if (handleKey(e)) e.stopPropagation();   // ours: Streamlit's own shortcuts must not see it too
  };
  const handleKey = (e) => {
    const mod = e.ctrlKey || e.metaKey;
    if (mod && !e.altKey && keyIs(e, 'z')) { e.preventDefault(); send({ type: 'undo' }); return true; }
    if (mod || e.altKey) return false;
    if (e.key === 'Escape') {
      S.link = null; S.pending = null; document.getSelection()?.removeAllRanges();
      if (S.selected !== null) select(null); else { paintSelected(); renderPanel(); }
      setStatus('', '');
      return true;
    }
    if (e.key === 'Delete' || e.key === 'Backspace') {
      const sp = spans.get(S.selected);
      if (sp) { e.preventDefault(); send({ type: 'delete', span_id: sp.id, version: sp.version }); return true; }
      return false;
    }
    if (e.key === 'PageDown' || keyIs(e, 'n')) { e.preventDefault(); send({ type: 'nav', step: 1 }); return true; }
    if (e.key === 'PageUp' || keyIs(e, 'p')) { e.preventDefault(); send({ type: 'nav', step: -1 }); return true; }
    if (keyIs(e, 'a')) { e.preventDefault(); startLink('attributed_to'); return true; }
    if (keyIs(e, 'l')) { e.preventDefault(); startLink('cue'); return true; }
    const lab = data.labels.find((l) => keyIs(e, l.hotkey));
    if (lab) { e.preventDefault(); applyLabel(lab.name); return true; }
    return false;
  };
  keys.handler = handler;
  box.dataset.snapWords = data.snap_words ? '1' : '0';   // test hook: which snapping the next tag uses
  box.dataset.ready = '1';
  return () => { if (keys.handler === handler) keys.handler = null; };
}
"""

_article = st.components.v2.component("nisba_article", html=HTML, css=CSS, js=JS, isolate_styles=True)


@dataclass
class Outcome:
    """What one action did: ``kind`` is ``saved``, ``error`` or ``info``; ``selected`` the span to select
    afterwards (``keep`` leaves the selection alone); ``nav`` a step to another document."""

    kind: str
    message: str
    selected: int | None | str = "keep"
    nav: int = 0


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


def apply_action(
    store: Store, user: User, document: Document, action: dict, *, snap_words: bool = True, layer: str = "annotator"
) -> Outcome:
    """Carry out one action sent by the component by calling the core; errors become an ``error`` outcome.

    ``tag`` re-snaps the offsets in Python (grapheme clusters always, whole words when ``snap_words``) before
    :func:`~annotator.annotations.add_span`, so a browser that snapped differently cannot split a letter.
    """
    if not isinstance(action, dict):
        return Outcome("error", "Malformed action; nothing was saved.")
    kind = action.get("type")
    try:
        if action.get("doc_id") not in (None, document.id):
            return Outcome("error", "That action was for another document; nothing was saved.")
        if kind == "tag":
            start, end = int(action["start"]), int(action["end"])
            if 0 <= start < end <= len(document.text):
                start, end = snap(document.text, start, end, words=snap_words)
                if start >= end:
                    raise InvalidSpan("The selection holds no word to tag.")
            span = add_span(store, user, document.id, str(action["label"]), start, end, layer=layer)
            return Outcome("saved", f"Saved {span.label} «{_short(span.text)}»", selected=span.id)
        if kind == "relabel":
            span = update_span(
                store, user, int(action["span_id"]), label=str(action["label"]), expected_version=action.get("version")
            )
            return Outcome("saved", f"Changed to {span.label} «{_short(span.text)}»", selected=span.id)
        if kind == "attr":
            attrs = {str(k): v for k, v in dict(action.get("attributes") or {}).items()}
            span = update_span(store, user, int(action["span_id"]), attributes=attrs, expected_version=action.get("version"))
            return Outcome("saved", f"Saved attributes of {span.label} «{_short(span.text)}»", selected=span.id)
        if kind == "delete":
            delete_span(store, user, int(action["span_id"]), expected_version=action.get("version"))
            return Outcome("saved", "Deleted (Ctrl+Z brings it back)", selected=None)
        if kind == "undo":
            what = undo_last(store, user, document.id)
            return Outcome("saved" if what else "info", f"Undone: {what}" if what else "Nothing left to undo.")
        if kind == "link":
            link_type = str(action.get("link_type", "attributed_to"))
            add_link(store, user, int(action["from_span_id"]), int(action["to_span_id"]), link_type)
            return Outcome("saved", "Linked: " + ("attributed to the source" if link_type == "attributed_to" else "cue"))
        if kind == "unlink":
            delete_link(store, user, int(action["link_id"]))
            return Outcome("saved", "Link removed")
        if kind == "nav":
            return Outcome("info", "", nav=1 if int(action.get("step", 1)) > 0 else -1)
        return Outcome("error", f"Unknown action {kind!r}; nothing was saved.")
    except NisbaError as exc:
        return Outcome("error", f"Not saved: {exc}")
    except (KeyError, TypeError, ValueError) as exc:
        return Outcome("error", f"Malformed action ({exc!r}); nothing was saved.")


def select_span(key: str, span_id: int | None) -> None:
    """Select a span in the article component ``key`` from Python (e.g. a click on a table row); call it in a
    callback or before the component is drawn."""
    st.session_state[f"{key}_selected"] = span_id
    st.session_state[f"{key}_select_seq"] = st.session_state.get(f"{key}_select_seq", 0) + 1


@dataclass
class ArticleView:
    """What :func:`article_view` drew: the component's result and the spans and links it showed.

    ``token`` names the data drawn (see :func:`data_token`): equal tokens mean equal spans and links, so a
    page can keep what it derived from them (the span table) until the token changes."""

    result: object
    spans: list[Span]
    links: list[Link]
    token: tuple = ()


@dataclass
class _Drawn:
    """The spans, links and serialised payload of one document for one user, valid while ``token`` holds."""

    token: tuple
    spans: list[Span]
    links: list[Link]
    span_ids: frozenset[int]
    rev: str
    payload_json: str


# Payload keys that change without any data change (a click, a toggle, a save's message): sent as plain
# fields next to the pre-serialised rest, so the long part is built and serialised only when the data changed.
_LIGHT_KEYS = ("doc_id", "selected", "snap_words", "status")


def data_token(store: Store, user: User, document: Document, layer: str) -> tuple:
    """A cheap key that changes whenever what the component shows could change.

    Every write records an audit event in its own transaction, so the latest event id moves with any change
    of spans, links, labels, memberships or roles; the user's id and role keep one user's layer from ever
    being served to another, and the database path keeps two stores apart."""
    return (store.path, document.id, document.text_sha256, layer, user.id, user.role, store.head_event_id())


def _drawn(store: Store, user: User, document: Document, *, key: str, layer: str) -> _Drawn:
    """Spans, links and payload of ``document``, rebuilt only when :func:`data_token` changed.

    Kept in this session's state (one entry per component key), never shared between sessions."""
    token = data_token(store, user, document, layer)
    cache_key = f"{key}_drawn"
    cached = st.session_state.get(cache_key)
    if isinstance(cached, _Drawn) and cached.token == token:
        access.require_document(store, user, document.id)  # the read is still checked, as list_spans would
        return cached
    spans = list_spans(store, user, document.id, layer=layer)
    links = list_links(store, user, document.id, {s.id for s in spans})
    payload = component_payload(
        document.id, document.text, spans, store.list_labels(document.project_id), links,
        text_sha256=document.text_sha256,
    )  # fmt: skip
    for k in _LIGHT_KEYS:
        del payload[k]
    drawn = _Drawn(
        token, spans, links, frozenset(s.id for s in spans), payload["rev"], json.dumps(payload, separators=(",", ":"))
    )
    st.session_state[cache_key] = drawn
    return drawn


def article_view(
    store: Store,
    user: User,
    document: Document,
    *,
    key: str,
    snap_words: bool = True,
    on_nav: Callable[[int], None] | None = None,
    layer: str = "annotator",
) -> ArticleView:
    """Show the article component for ``document`` and wire its actions to the core.

    Session state used (all prefixed with ``key``): ``{key}_selected`` (the selected span id, also set by the
    page's span table), ``{key}_status`` (the last outcome ``{seq, kind, message}``, shown in the
    component) and ``{key}_drawn`` (the last spans and payload, see :func:`_drawn`). The component's
    ``data`` is the payload of :func:`~annotator.render.component_payload` split in two: ``drawn``, a JSON
    string of everything but the light keys, and the light keys themselves next to ``rev``, ``select_seq``
    and ``font_base``. The component's result has ``.selection``, ``.selected`` (state) and ``.action``
    (trigger). ``layer="gold"`` shows and edits the gold layer (reviewers and admins; the core checks).
    """
    sel_key, status_key = f"{key}_selected", f"{key}_status"
    st.session_state.setdefault(sel_key, None)
    st.session_state.setdefault(f"{key}_select_seq", 0)
    st.session_state.setdefault(status_key, {"seq": 0, "kind": "", "message": ""})

    def on_action() -> None:
        action = st.session_state[key].get("action")
        if not action:
            return
        outcome = apply_action(store, user, document, action, snap_words=snap_words, layer=layer)
        if outcome.selected != "keep":
            select_span(key, outcome.selected)
        seq = st.session_state[status_key]["seq"] + 1
        st.session_state[status_key] = {"seq": seq, "kind": outcome.kind, "message": outcome.message}
        if outcome.nav and on_nav is not None:
            on_nav(outcome.nav)

    def on_selected() -> None:
        value = st.session_state[key].get("selected")
        st.session_state[sel_key] = int(value) if isinstance(value, int | float) else None

    def on_selection() -> None:
        pass  # the selection travels with each "tag" action; keeping it as state lets Python show it

    drawn = _drawn(store, user, document, key=key, layer=layer)
    selected = st.session_state[sel_key]
    data = {
        "rev": drawn.rev,
        "drawn": drawn.payload_json,
        "doc_id": document.id,
        "selected": selected if selected in drawn.span_ids else None,
        "snap_words": bool(snap_words),
        "status": st.session_state[status_key],
        "select_seq": st.session_state[f"{key}_select_seq"],
        "font_base": FONT_BASE,
    }
    result = _article(
        key=key,
        data=data,
        default={"selection": None, "selected": None},
        on_action_change=on_action,
        on_selected_change=on_selected,
        on_selection_change=on_selection,
    )
    return ArticleView(result, drawn.spans, drawn.links, drawn.token)
