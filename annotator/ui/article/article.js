// The article component: the browser keeps the document, its spans and links, and draws them itself.
// Python sends the full state once per document, then only changes (see annotator/article_sync.py). A text
// selection never leaves the browser; an action (tag, relabel, attributes, delete, link, unlink, undo, nav) is sent
// with every action not yet acknowledged, each with its own id (cid): over the direct channel (one POST, answered
// with the changes, no rerun of the page) or, for nav and whenever the channel is refused, as one trigger (which
// must carry them all, because Streamlit keeps only the last trigger of queued reruns). All offsets on the wire
// are Python code points.

const BG = 'var(--st-background-color, #fff)';
const CHUNK = 600;         // code points per redraw unit inside a paragraph (a redraw builds ~150 elements)
const FIRST_PARAS = 6;     // paragraphs drawn before the first paint; the rest follow in short tasks
const FILL_SLICE_MS = 12;  // drawing time per task after the first paint
const IN_VIEW = new Set(['tag', 'accept']);   // actions made on what is on screen
const RESEND_MS = 3000;    // an unacknowledged action is sent again after this long
const decoder = new TextDecoder();

// ---- small helpers ------------------------------------------------------------------------------------
function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'data') Object.assign(e.dataset, v); else if (k === 'style') e.style.cssText = v; else e[k] = v;
  }
  e.append(...kids);
  return e;
}
const below = (a, x) => { let lo = 0, hi = a.length; while (lo < hi) { const m = (lo + hi) >> 1; if (a[m] < x) lo = m + 1; else hi = m; } return lo; };
const cmpSpan = (a, b) => a.s - b.s || b.e - a.e || String(a.id).localeCompare(String(b.id), 'en', { numeric: true });

function registerFont(base) {
  // @font-face inside a shadow root is unreliable: register the face once on the document.
  if (!base || document.getElementById('nisba-font')) return;
  const style = document.createElement('style');
  style.id = 'nisba-font';
  style.textContent = [400, 700].map((w) =>
    `@font-face{font-family:"Noto Naskh Arabic";font-style:normal;font-weight:${w};font-display:swap;` +
    `src:url("${base}noto-naskh-arabic-arabic-${w}-normal.woff2") format("woff2");}`).join('\n');
  document.head.appendChild(style);
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

function shorten(cps, s, e, n = 48) {   // a long span as its start … its end (code points, never half a pair)
  if (e - s <= n) return cps.slice(s, e).join('');
  const h = n >> 1;
  return cps.slice(s, s + h).join('') + ' … ' + cps.slice(e - h, e).join('');
}

// ---- the model: text, paragraphs and chunks, spans and links -----------------------------------------
function setText(S, full) {
  S.text = full.text;
  S.cps = Array.from(full.text);
  S.bounds = null;
  // paragraphs end after their newline; long ones are cut into chunks (inline) so a tag redraws little
  const paras = [], chunks = [];
  let s = 0;
  const n = S.cps.length;
  while (s < n) {
    let e = s;
    while (e < n && S.cps[e] !== '\n') e++;
    e = Math.min(n, e + 1);
    const p = { s, e, el: null, chunks: [] };
    for (let c = s; c < e; c += CHUNK) {
      const ch = { s: c, e: Math.min(e, c + CHUNK), el: null, para: p, ids: new Set(), drawn: false };
      p.chunks.push(chunks.length);
      chunks.push(ch);
    }
    paras.push(p);
    s = e;
  }
  S.paras = paras; S.chunks = chunks; S.chunkStarts = chunks.map((c) => c.s);
}

function chunkRange(S, s, e) {   // indices of the chunks a span [s, e) touches
  const i0 = Math.max(0, below(S.chunkStarts, s + 1) - 1);
  const i1 = Math.max(i0, below(S.chunkStarts, e) - 1);
  return [i0, i1];
}

function putSpan(S, sp) {
  const old = S.spans.get(sp.id);
  if (old) dropSpan(S, old);
  S.spans.set(sp.id, sp);
  S.listDirty = true;
  const [i0, i1] = chunkRange(S, sp.s, sp.e);
  for (let i = i0; i <= i1; i++) { S.chunks[i].ids.add(sp.id); S.dirty.add(i); }
}

const itemOf = (S, id) => S.spans.get(id) || S.suggs.get(id);

function putSugg(S, g) {   // an open suggestion: drawn as a dashed outline while suggestions are shown
  const id = 'g:' + g.key;
  dropSugg(S, g.key);
  const item = { ...g, id, sugg: true };
  S.suggs.set(id, item);
  if (S.showSugg && !S.hidden.has(g.key)) indexItem(S, item, true);
}

function dropSugg(S, key) {
  const item = S.suggs.get('g:' + key);
  if (!item) return;
  indexItem(S, item, false);
  S.suggs.delete(item.id);
  if (S.focus === key) S.focus = null;
}

function indexItem(S, item, on) {
  const [i0, i1] = chunkRange(S, item.s, item.e);
  for (let i = i0; i <= i1; i++) { if (on) S.chunks[i].ids.add(item.id); else S.chunks[i].ids.delete(item.id); S.dirty.add(i); }
}

function showSuggestions(S, on) {   // the toggle: index or unindex every open suggestion, then redraw
  S.showSugg = on;
  try { localStorage.setItem('nisba.suggestions', on ? '1' : '0'); } catch (err) { /* private mode */ }
  for (const g of S.suggs.values()) indexItem(S, g, on && !S.hidden.has(g.key));
  if (!on) S.focus = null;
  flushDraw(S);
}

function setFocus(S, key) {   // the suggestion Tab, a click or Enter works on; redraws its outline
  for (const k of [S.focus, key]) {
    const g = k && S.suggs.get('g:' + k);
    if (g && S.showSugg && !S.hidden.has(k)) indexItem(S, g, true);
  }
  S.focus = key;
}

function openSuggestions(S) {   // in reading order, what Tab walks through
  return [...S.suggs.values()].filter((g) => !S.hidden.has(g.key)).sort(cmpSpan);
}

function dropSpan(S, sp) {
  const [i0, i1] = chunkRange(S, sp.s, sp.e);
  for (let i = i0; i <= i1; i++) { S.chunks[i].ids.delete(sp.id); S.dirty.add(i); }
  S.spans.delete(sp.id);
  S.listDirty = true;
}

function dirtySpan(S, id) {   // redraw a span's chunks (its selection or link-target outline changed)
  const sp = S.spans.get(id);
  if (!sp) return;
  const [i0, i1] = chunkRange(S, sp.s, sp.e);
  for (let i = i0; i <= i1; i++) S.dirty.add(i);
}

// ---- drawing ------------------------------------------------------------------------------------------
function colourOf(S, sp) { return (S.labels.get(sp.l) || {}).colour || '#cccccc'; }

function drawChunk(S, i) {
  const ch = S.chunks[i];
  const list = [...ch.ids].map((id) => itemOf(S, id)).filter(Boolean).sort(cmpSpan);
  // underline tracks: overlapping spans never share one (greedy interval colouring within the chunk)
  const trackEnd = [], track = new Map();
  for (const sp of list) {
    if (sp.sugg) continue;
    let t = trackEnd.findIndex((end) => end <= sp.s);
    if (t < 0) { t = trackEnd.length; trackEnd.push(0); }
    trackEnd[t] = sp.e; track.set(sp.id, Math.min(t, 5));
  }
  const cuts = new Set([ch.s, ch.e]);
  for (const sp of list) { if (sp.s > ch.s) cuts.add(sp.s); if (sp.e < ch.e) cuts.add(sp.e); }
  const points = [...cuts].sort((a, b) => a - b);
  const frag = document.createDocumentFragment();
  // a sweep over the pieces: spans open in reading order, so the active list stays outermost first
  let active = [], next = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k], b = points[k + 1];
    const text = S.cps.slice(a, b).join('');
    if (active.length) active = active.filter((sp) => sp.e > a);
    while (next < list.length && list[next].s <= a) { if (list[next].e > a) active.push(list[next]); next++; }
    const chain = active;
    if (!chain.length) {
      const plain = document.createElement('span');
      plain.dataset.start = a; plain.dataset.end = b; plain.textContent = text;
      frag.appendChild(plain);
      continue;
    }
    let parent = frag, piece = null;
    for (const sp of chain) {   // one <mark> per covering span; the innermost holds the text and the colours
      const m = document.createElement('mark');
      if (sp.sugg) { m.className = 'sugg'; m.dataset.suggKey = sp.key; } else m.dataset.spanId = sp.id;
      m.dataset.label = sp.l; m.dataset.start = a; m.dataset.end = b;
      if (sp.sugg) {
        m.style.setProperty('--sugg', colourOf(S, sp));
        if (sp.key === S.focus) m.classList.add('focus');
      }
      if (sp.pending) m.classList.add('pending');
      if (sp.deleting) m.classList.add('deleting');
      if (sp.id === S.selected) m.classList.add('sel');
      if (S.link && (S.labels.get(sp.l) || {}).kind === (S.link === 'attributed_to' ? 'source' : 'cue')) m.classList.add('target');
      parent.appendChild(m); parent = m; piece = m;
    }
    const spansHere = chain.filter((sp) => !sp.sugg);
    const inner = spansHere[spansHere.length - 1];
    piece.classList.add('piece');
    piece.textContent = text;   // text, never HTML
    if (!inner) { piece.title = chain.map((g) => 'suggested ' + g.l).join(' › '); continue; }
    piece.style.backgroundColor = `color-mix(in srgb, ${colourOf(S, inner)} 60%, transparent)`;
    const maxTrack = Math.max(...spansHere.map((sp) => track.get(sp.id)));
    const byTrack = new Map(spansHere.map((sp) => [track.get(sp.id), sp]));
    const shadows = [];
    for (let t = 0; t <= maxTrack; t++) {   // a 1px gap then a 3px band per track
      const sp = byTrack.get(t);
      shadows.push(`0 ${4 * t + 1}px 0 0 ${BG}`);
      shadows.push(`0 ${4 * t + 4}px 0 0 ${sp ? `color-mix(in srgb, ${colourOf(S, sp)} 70%, #000)` : BG}`);
    }
    piece.style.boxShadow = shadows.join(',');
    const opens = spansHere.filter((sp) => sp.s === a).map((sp) => sp.l);
    if (opens.length) piece.dataset.opens = opens.join(' ');
    const closes = spansHere.filter((sp) => sp.e === b).length;
    if (closes) piece.dataset.closes = ']'.repeat(closes);   // mirrored in right-to-left text: the span's end
    piece.title = spansHere.map((sp) => sp.l + (Object.keys(sp.a || {}).length ?
      ' (' + Object.entries(sp.a).map(([k, v]) => `${k}: ${v}`).join(', ') + ')' : '')).join(' › ');
  }
  if (!ch.el) return;
  if (!ch.drawn || !patchInPlace(ch.el, frag)) ch.el.replaceChildren(frag);
  ch.drawn = true;
}

// When the new drawing of a chunk has the same shape as the one on screen (the same elements over the same
// offsets, the same text) and differs only in attributes — a pending highlight confirmed, a selection moved, a
// link target shown — copy the attributes over: the text is not shaped and laid out again (Arabic shaping of
// a rebuilt chunk was most of a confirmed tag's cost in the browser). Any other difference: false, rebuild.
function patchInPlace(root, frag) {
  const pairs = [];
  const walk = (a, b) => {
    if (a.childNodes.length !== b.childNodes.length) return false;
    for (let k = 0; k < a.childNodes.length; k++) {
      const x = a.childNodes[k], y = b.childNodes[k];
      if (x.nodeType !== y.nodeType) return false;
      if (x.nodeType === Node.TEXT_NODE) { if (x.data !== y.data) return false; continue; }
      if (x.tagName !== y.tagName || x.dataset.start !== y.dataset.start || x.dataset.end !== y.dataset.end) return false;
      pairs.push([x, y]);
      if (!walk(x, y)) return false;
    }
    return true;
  };
  if (!walk(root, frag)) return false;
  for (const [x, y] of pairs) {
    for (const name of x.getAttributeNames()) if (!y.hasAttribute(name)) x.removeAttribute(name);
    for (const name of y.getAttributeNames()) { const v = y.getAttribute(name); if (x.getAttribute(name) !== v) x.setAttribute(name, v); }
  }
  return true;
}

function buildSkeleton(S) {   // empty paragraph and chunk elements for the whole text (cheap), filled progressively
  const box = S.box;
  const frag = document.createDocumentFragment();
  for (const p of S.paras) {
    p.el = el('div', { className: 'para', data: { start: p.s, end: p.e } });
    for (const i of p.chunks) {
      const ch = S.chunks[i];
      ch.el = el('span', { className: 'chunk', data: { start: ch.s, end: ch.e } });
      ch.drawn = false;
      p.el.appendChild(ch.el);
    }
    frag.appendChild(p.el);
  }
  box.replaceChildren(frag);
  S.dirty = new Set(S.chunks.map((_, i) => i));
  S.fillFrom = 0;
  S.drawGen = (S.drawGen || 0) + 1;
  const gen = S.drawGen;
  // the first screen in one go, then the rest in slices of FILL_SLICE_MS: short tasks let the browser paint, take
  // keys and scroll meanwhile (8 paragraphs per task took 100-300 ms each on the long document)
  const fill = (count) => {
    if (gen !== S.drawGen) return;
    const t0 = performance.now();
    let done = 0;
    while (S.fillFrom < S.paras.length && (count ? done < count : performance.now() - t0 < FILL_SLICE_MS)) {
      for (const i of S.paras[S.fillFrom].chunks) if (!S.chunks[i].drawn) { drawChunk(S, i); S.dirty.delete(i); }
      S.fillFrom++; done++;
    }
    if (S.fillFrom < S.paras.length) setTimeout(() => fill(0), 0);
    else {
      box.dataset.ready = '1'; box.dataset.drawn = String(S.rev);
      // word and grapheme boundaries of a long text take tens of ms: find them now, not on the first drag
      (window.requestIdleCallback || setTimeout)(() => bounds(S));
    }
  };
  box.dataset.ready = '0';
  fill(FIRST_PARAS);
  requestAnimationFrame(() => {   // the first screen is usable (the mark: when, for benchmarks/bench_annotation_loop.py)
    if (gen === S.drawGen) { box.dataset.firstPaint = '1'; performance.mark('nisba:first-paint'); }
  });
}

function renderToggle(S) {
  let n = 0;
  for (const g of S.suggs.values()) if (!S.hidden.has(g.key)) n++;
  S.suggToggle.textContent = `Suggestions (${n}) ${S.showSugg ? 'on' : 'off'}`;
  S.suggToggle.classList.toggle('on', S.showSugg);
  S.box.dataset.suggestions = S.showSugg ? String(n) : 'off';
}

function flushDraw(S) {   // redraw the chunks an edit touched (only those already drawn; the rest draw when filled)
  for (const i of S.dirty) if (S.chunks[i].drawn) drawChunk(S, i);   // undrawn ones draw from the model later
  S.dirty.clear();
  S.box.dataset.selected = S.selected ?? '';
  S.box.classList.toggle('linking', !!S.link);
  renderPanel(S);
  renderList(S);
  renderToggle(S);
}

// ---- code-point offsets <-> DOM positions ------------------------------------------------------------
function offsetOf(S, node, off) {
  if (node.nodeType === Node.TEXT_NODE) {
    const p = node.parentElement.closest('[data-start]');
    let k = 0;
    for (const _ of node.data.slice(0, off)) k++;
    return Number(p.dataset.start) + k;
  }
  const kids = node.childNodes;   // every element of the article carries data-start / data-end
  if (off < kids.length) {
    const k = kids[off];
    return k.nodeType === Node.TEXT_NODE ? offsetOf(S, k, 0) : Number(k.dataset.start);
  }
  return node === S.box ? S.cps.length : Number(node.dataset.end);
}

function leafAt(S, cp) {   // the drawn piece holding code point cp (or ending there, at the very end)
  const i = Math.max(0, below(S.chunkStarts, cp + 1) - 1);
  const ch = S.chunks[i];
  if (!ch.drawn) drawChunk(S, i);
  for (const leaf of ch.el.querySelectorAll('[data-start]')) {
    if (leaf.querySelector('[data-start]')) continue;
    const a = Number(leaf.dataset.start), b = Number(leaf.dataset.end);
    if (cp >= a && cp < b) return [leaf, a];
    if (cp === b && b === ch.e) return [leaf, a];
  }
  return [null, 0];
}

function positionOf(S, cp) {   // [text node, UTF-16 offset] of a code-point offset
  const [leaf, a] = leafAt(S, cp);
  if (!leaf) return [null, 0];
  return [leaf.firstChild, S.cps.slice(a, cp).join('').length];
}

// ---- grapheme and word boundaries (Intl.Segmenter), in code points, computed on first use -------------
function bounds(S) {
  if (S.bounds) return S.bounds;
  const text = S.text;
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
  const wordStarts = [], wordEnds = [];
  for (const w of new Intl.Segmenter('ar', { granularity: 'word' }).segment(text))
    if (w.isWordLike) { wordStarts.push(cpAt[w.index]); wordEnds.push(cpAt[w.index + w.segment.length]); }
  return (S.bounds = { graphemes, wordStarts, wordEnds });
}

function snapRange(S, s, e) {
  const { graphemes: g, wordStarts, wordEnds } = bounds(S);
  s = g[Math.max(0, below(g, s + 1) - 1)];   // last boundary <= s
  e = g[Math.min(g.length - 1, below(g, e))];  // first boundary >= e
  if (S.snapWords) {
    let k = below(wordEnds, s + 1);            // the word holding s, if any
    if (k < wordStarts.length && wordStarts[k] < s) s = wordStarts[k];
    k = below(wordEnds, e);                    // the word holding e, if any
    if (k < wordStarts.length && wordStarts[k] < e && e < wordEnds[k]) e = wordEnds[k];
    while (s < e && /\s/.test(S.cps[s])) s++;
    while (e > s && /\s/.test(S.cps[e - 1])) e--;
  }
  return [s, e];
}

// ---- the current text selection, read inside the shadow root ----------------------------------------
function currentRange(S) {
  const sel = document.getSelection();
  if (!sel || sel.rangeCount === 0) return null;
  if (typeof sel.getComposedRanges === 'function' && S.root instanceof ShadowRoot) {
    const rs = sel.getComposedRanges({ shadowRoots: [S.root] });
    return rs && rs.length ? rs[0] : null;
  }
  return sel.getRangeAt(0);
}

function readSelection(S) {
  const r = currentRange(S);
  if (!r || r.collapsed) return null;
  const box = S.box;
  const inBox = (n) => n === box || box.contains(n);
  const sIn = inBox(r.startContainer), eIn = inBox(r.endContainer);
  if (!sIn && !eIn) return null;
  let s = sIn ? offsetOf(S, r.startContainer, r.startOffset) : 0;
  let e = eIn ? offsetOf(S, r.endContainer, r.endOffset) : S.cps.length;
  if (e <= s) return null;
  [s, e] = snapRange(S, s, e);
  return e > s ? { start: s, end: e } : null;
}

function showSelection(S, sel) {   // make the browser selection match snapped offsets
  try {
    const [a, ao] = positionOf(S, sel.start);
    const [b, bo] = positionOf(S, sel.end);
    if (a && b) document.getSelection().setBaseAndExtent(a, ao, b, bo);
  } catch (err) { /* the status line still shows the snapped offsets */ }
}

// ---- the status line: isolated parts, so numbers and Arabic keep their own direction ----------------
function setStatus(S, kind, parts) {
  S.status.dataset.kind = kind || '';
  const kids = (Array.isArray(parts) ? parts : [parts]).map((p) => {
    if (typeof p === 'string') return p;
    if (p.ar !== undefined) return el('bdi', { dir: 'rtl', lang: 'ar', className: 'ar' }, '«' + p.ar + '»');
    return el('bdi', { dir: 'ltr' }, p.ltr);
  });
  S.status.replaceChildren(...kids);
}

// a server message like "Saved QUOTE «…»": the quoted part isolated right to left
function messageParts(message) {
  const m = /^(.*?)«([\s\S]*)»(.*)$/.exec(message || '');
  return m ? [m[1], { ar: m[2] }, m[3]] : [message || ''];
}

// ---- talking to Python --------------------------------------------------------------------------------
// Every unanswered action goes with each send, by id; the server applies each id once, whichever way it came.
function flush(S, base) {
  const msg = { epoch: S.epoch, base: base === undefined ? S.rev : base, ops: S.pending.map((p) => p.op) };
  clearTimeout(S.resendTimer);
  if (S.pending.length) S.resendTimer = setTimeout(() => flush(S), RESEND_MS);
  if (S.channel && !msg.ops.some((op) => op.type === 'nav')) post(S, msg);
  else S.trigger('action', msg);   // another document is the page's business: only a rerun can open it
}

// The direct channel (annotator/ui/article_channel.py): one request at a time, answered with the same message a
// rerun would bring, without rerunning the page. Refused or unreachable: the trigger takes over for this page.
function post(S, msg) {
  if (S.posting) { S.postAgain = true; return; }
  S.posting = true;
  const ch = S.channel;
  fetch(ch.url, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: ch.token, ...msg }) })
    .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`channel ${r.status}`))))
    .then((buf) => {
      S.posting = false;
      if (S.box.isConnected) receive(S, JSON.parse(decoder.decode(buf)));
      if (S.postAgain) { S.postAgain = false; if (S.pending.length) flush(S); }
    })
    .catch((err) => {
      console.warn('nisba: direct channel unavailable, actions go through the page', err);
      S.posting = false; S.postAgain = false; S.deadChannel = ch.token; S.channel = null;
      if (S.box.isConnected) flush(S, msg.base);   // without a channel: the trigger, with every unanswered action
    });
}

function send(S, op, { later = false } = {}) {
  op.cid = `${S.mount}.${++S.seq}`;
  op.doc_id = S.docId;
  const p = { op, temp: null, deleting: null, hide: null, hideAll: null, t0: performance.now() };
  S.pending.push(p);
  S.box.dataset.pending = String(S.pending.length);
  setStatus(S, 'busy', 'saving…');
  // later: the caller paints first (the pending highlight), then sends; Streamlit's send takes a few ms itself
  if (later) setTimeout(() => flush(S), 0); else flush(S);
  return p;
}

function askFull(S) { flush(S, null); }

function applyLabel(S, name) {
  const sel = readSelection(S) || S.sel;
  if (sel) {
    const p = send(S, { type: 'tag', label: name, start: sel.start, end: sel.end, snap_words: !!S.snapWords }, { later: true });
    // drawn at once as pending (dashed); the server's answer makes it solid or takes it away with a reason
    p.temp = { id: 'p' + p.op.cid, s: sel.start, e: sel.end, l: name, v: 0, a: {}, pending: true };
    putSpan(S, p.temp);
    S.sel = null;
    document.getSelection()?.removeAllRanges();
    flushDraw(S);
    window.__nisbaPendingPaint = performance.now();
  } else if (S.selected !== null && S.spans.has(S.selected)) {
    const sp = S.spans.get(S.selected);
    if (sp.l !== name) send(S, { type: 'relabel', span_id: sp.id, label: name, version: sp.v });
  } else {
    setStatus(S, 'info', 'Select some text first, then press a label key.');
  }
}

function deleteSpan(S, sp) {
  const p = send(S, { type: 'delete', span_id: sp.id, version: sp.v });
  p.deleting = sp.id;
  sp.deleting = true;
  dirtySpan(S, sp.id);
  flushDraw(S);
}

function select(S, id, scroll = false) {
  const before = S.selected;
  S.selected = id;
  S.link = null;
  if (before !== null) dirtySpan(S, before);
  if (id !== null) dirtySpan(S, id);
  S.linkDirty = true;
  flushDraw(S);
  if (scroll && id !== null) scrollToSpan(S, id);
}

function scrollToSpan(S, id) {
  const m = S.box.querySelector(`mark[data-span-id="${id}"]`);
  if (m) m.scrollIntoView({ block: 'nearest', inline: 'nearest' });
}

function startLink(S, type) {
  const sp = S.spans.get(S.selected);
  if (!sp || (S.labels.get(sp.l) || {}).kind !== 'content') { setStatus(S, 'info', 'Select a CLAIM or QUOTE first.'); return; }
  S.link = S.link === type ? null : type;
  for (const s of S.spans.values()) dirtySpan(S, s.id);
  flushDraw(S);
}

// ---- the panel for the selected span (one line, fixed height) ----------------------------------------
function renderSuggestionPanel(S, g) {
  const same = openSuggestions(S).filter((x) => x.l === g.l).length;
  const kids = [
    el('span', { className: 'chip sugg', style: `border-color:${colourOf(S, g)}` }, 'suggested ' + g.l),
    el('bdi', { className: 'quote', dir: 'rtl', lang: 'ar' }, '«' + shorten(S.cps, g.s, g.e) + '»'),
  ];
  const ok = el('button', { type: 'button', data: { nisba: 'accept' } }, 'Accept', el('kbd', {}, 'Enter'));
  ok.onclick = () => acceptFocused(S);
  const no = el('button', { type: 'button', data: { nisba: 'dismiss' } }, 'Dismiss', el('kbd', {}, 'x'));
  no.onclick = () => dismissFocused(S);
  const all = el('button', { type: 'button', data: { nisba: 'accept-all' } }, `Accept all ${g.l} (${same})`);
  all.onclick = () => acceptAll(S, g.l);
  kids.push(ok, no, all, el('span', { className: 'hint' }, 'Tab / Shift+Tab: next / previous suggestion'));
  S.panel.replaceChildren(...kids);
  S.panel.querySelectorAll('button').forEach((b) => { b.onmousedown = (e) => e.preventDefault(); });
}

function focusSuggestion(S, step) {
  const list = openSuggestions(S);
  if (!list.length) { setStatus(S, 'info', S.showSugg ? 'No suggestions left in this document.' : 'Suggestions are hidden.'); return; }
  let i = list.findIndex((g) => g.key === S.focus);
  if (i < 0) {   // start from what is on screen
    const top = S.box.scrollTop;
    i = step > 0 ? -1 : list.length;
    const firstVisible = list.findIndex((g) => { const m = S.box.querySelector(`mark[data-sugg-key="${CSS.escape(g.key)}"]`);
      return m && m.offsetTop >= top; });
    if (firstVisible >= 0) i = step > 0 ? firstVisible - 1 : firstVisible;
  }
  const next = list[(i + step + list.length) % list.length];
  setFocus(S, next.key);
  if (S.selected !== null) { dirtySpan(S, S.selected); S.selected = null; }
  flushDraw(S);
  S.box.querySelector(`mark[data-sugg-key="${CSS.escape(next.key)}"]`)?.scrollIntoView({ block: 'nearest' });
}

function acceptFocused(S) {
  const g = S.focus && S.suggs.get('g:' + S.focus);
  if (!g) return;
  const p = send(S, { type: 'accept', key: g.key });
  p.hide = g.key;
  S.hidden.add(g.key);
  indexItem(S, g, false);
  p.temp = { id: 'p' + p.op.cid, s: g.s, e: g.e, l: g.l, v: 0, a: {}, pending: true };
  putSpan(S, p.temp);
  const list = openSuggestions(S);
  S.focus = null;
  flushDraw(S);
  window.__nisbaPendingPaint = performance.now();
  if (list.length) S.nextFocus = true;
}

function dismissFocused(S) {
  const g = S.focus && S.suggs.get('g:' + S.focus);
  if (!g) return;
  const p = send(S, { type: 'dismiss', key: g.key });
  p.hide = g.key;
  S.hidden.add(g.key);
  indexItem(S, g, false);
  S.focus = null;
  flushDraw(S);
  focusSuggestion(S, 1);
}

function acceptAll(S, label) {
  const p = send(S, { type: 'accept_all', label });
  p.hideAll = openSuggestions(S).filter((g) => g.l === label).map((g) => g.key);
  for (const k of p.hideAll) { S.hidden.add(k); const g = S.suggs.get('g:' + k); if (g) indexItem(S, g, false); }
  S.focus = null;
  flushDraw(S);
  // on to the next suggestion, as Enter and x do: the next label's "Accept all" is one click away
  if (openSuggestions(S).length) focusSuggestion(S, 1);
}

function renderPanel(S) {
  const panel = S.panel;
  const focused = S.focus !== null ? S.suggs.get('g:' + S.focus) : null;
  if (focused && S.selected === null) { panel.dataset.selected = ''; renderSuggestionPanel(S, focused); return; }
  const sp = S.selected !== null ? S.spans.get(S.selected) : null;
  panel.dataset.selected = sp ? sp.id : '';
  if (!sp) {
    panel.replaceChildren(el('span', { className: 'hint' },
      'Select text and press a label key · click a highlight to select it (again: the enclosing one) · n/p next/previous document'));
    return;
  }
  const lab = S.labels.get(sp.l) || { attributes: {} };
  const kids = [
    el('span', { className: 'chip', style: `background:${colourOf(S, sp)}` }, sp.l),
    el('bdi', { className: 'quote', dir: 'rtl', lang: 'ar' }, '«' + shorten(S.cps, sp.s, sp.e) + '»'),
  ];
  for (const [name, values] of Object.entries(lab.attributes || {})) {
    const sel = el('select', { data: { nisbaAttr: name }, title: name },
      el('option', { value: '' }, `${name}: —`),
      ...values.map((v) => el('option', { value: v, selected: (sp.a || {})[name] === v }, `${name}: ${v}`)));
    sel.onchange = () => send(S, { type: 'attr', span_id: sp.id, version: sp.v, attributes: { ...sp.a, [name]: sel.value } });
    kids.push(sel);
  }
  if (lab.kind === 'content') {
    const a = el('button', { type: 'button', className: S.link === 'attributed_to' ? 'on' : '', data: { nisba: 'link-source' } },
      'Attributed to…', el('kbd', {}, 'a'));
    a.onclick = () => startLink(S, 'attributed_to');
    const c = el('button', { type: 'button', className: S.link === 'cue' ? 'on' : '', data: { nisba: 'link-cue' } },
      'Cue…', el('kbd', {}, 'l'));
    c.onclick = () => startLink(S, 'cue');
    kids.push(a, c);
  }
  for (const k of S.links.values()) {
    if (k.from !== sp.id && k.to !== sp.id) continue;
    const other = S.spans.get(k.from === sp.id ? k.to : k.from);
    if (!other) continue;
    const x = el('button', { type: 'button', title: 'Remove this link', data: { nisba: 'unlink', linkId: k.id } },
      `${k.from === sp.id ? '→' : '←'} ${k.type === 'cue' ? 'cue' : 'source'} ${other.l} `,
      el('bdi', { className: 'quote', dir: 'rtl' }, '«' + shorten(S.cps, other.s, other.e, 24) + '»'), ' ×');
    x.onclick = () => send(S, { type: 'unlink', link_id: k.id });
    kids.push(x);
  }
  const del = el('button', { type: 'button', data: { nisba: 'delete' } }, 'Delete', el('kbd', {}, 'Del'));
  del.onclick = () => deleteSpan(S, sp);
  kids.push(del);
  if (S.link) kids.push(el('span', { className: 'hint' },
    S.link === 'attributed_to' ? 'Click the SOURCE span (Esc cancels)' : 'Click the CUE span (Esc cancels)'));
  panel.replaceChildren(...kids);
  panel.querySelectorAll('button').forEach((b) => { b.onmousedown = (e) => e.preventDefault(); });
}

// ---- the span list below the article (reading order; drawn only while open) ---------------------------
function renderList(S) {
  if (!S.listDirty) {   // only the selection moved: mark its row
    for (const r of S.rows.querySelectorAll('.row.sel')) r.classList.remove('sel');
    if (S.selected !== null) S.rows.querySelector(`.row[data-span-id="${S.selected}"]`)?.classList.add('sel');
    return;
  }
  const saved = [...S.spans.values()].filter((sp) => !sp.pending);
  S.listSummary.textContent = `Spans (${saved.length}), in reading order — click a row to select its highlight`;
  S.box.dataset.count = String(saved.length);
  if (!S.list.open) return;
  S.listDirty = false;
  const gen = (S.listGen = (S.listGen || 0) + 1);
  saved.sort(cmpSpan);
  const target = new Map();
  for (const k of S.links.values()) {
    const to = S.spans.get(k.to);
    if (!to) continue;
    const key = k.from + ':' + k.type;
    target.set(key, (target.has(key) ? target.get(key) + ' | ' : '') + shorten(S.cps, to.s, to.e, 30));
  }
  const head = el('div', { className: 'row head' }, el('span', {}, 'label'), el('span', {}, 'text'),
    el('span', {}, 'attributes'), el('span', {}, 'source'), el('span', {}, 'cue'));
  S.rows.replaceChildren(head);
  let i = 0;
  const step = () => {   // 300 rows per task: a long document's list never blocks the page
    if (gen !== S.listGen) return;
    const frag = document.createDocumentFragment();
    for (const end = Math.min(saved.length, i + 300); i < end; i++) {
      const sp = saved[i];
      const row = el('div', { className: 'row' + (sp.id === S.selected ? ' sel' : ''), data: { spanId: sp.id } },
        el('span', {}, el('span', { className: 'chip', style: `background:${colourOf(S, sp)}` }, sp.l)),
        el('bdi', { className: 'quote', dir: 'rtl', lang: 'ar' }, shorten(S.cps, sp.s, sp.e, 80)),
        el('span', {}, Object.entries(sp.a || {}).map(([k, v]) => `${k}: ${v}`).join(', ')),
        el('bdi', { className: 'quote', dir: 'rtl' }, target.get(sp.id + ':attributed_to') || ''),
        el('bdi', { className: 'quote', dir: 'rtl' }, target.get(sp.id + ':cue') || ''));
      frag.appendChild(row);
    }
    S.rows.appendChild(frag);
    if (i < saved.length) setTimeout(step, 0);
  };
  step();
}

// ---- messages from Python -----------------------------------------------------------------------------
function loadFull(S, msg) {
  const full = msg.full;
  const newDoc = S.docId !== full.doc_id || S.text !== full.text;
  const resend = msg.epoch !== S.epoch && S.docId === full.doc_id && S.pending.length > 0;
  if (msg.epoch !== S.epoch && S.docId !== full.doc_id) {   // another document: actions of the old one are void
    S.pending = []; clearTimeout(S.resendTimer);
    S.selected = null; S.link = null; S.sel = null; S.selectSeq = undefined;
  }
  S.epoch = msg.epoch; S.rev = msg.rev; S.docId = full.doc_id;
  S.labelList = full.labels;
  S.labels = new Map(full.labels.map((l) => [l.name, l]));
  if (newDoc) setText(S, full);
  S.spans = new Map(); S.links = new Map();
  for (const ch of S.chunks) ch.ids.clear();
  S.dirty = new Set();
  for (const sp of full.spans) putSpan(S, sp);
  for (const k of full.links) S.links.set(k.id, k);
  S.suggs = new Map();
  for (const g of full.suggestions || []) putSugg(S, g);
  for (const p of S.pending) if (p.temp) putSpan(S, p.temp);   // still waiting for the server
  if (S.selected !== null && !S.spans.has(S.selected)) S.selected = null;
  renderLabels(S);
  if (newDoc || !S.chunks.length || !S.box.childNodes.length) buildSkeleton(S);
  else S.dirty = new Set(S.chunks.map((_, i) => i));
  // the same document from a new session (the websocket reconnected): what is still unanswered goes again;
  // the server answers actions it already applied without applying them twice
  if (resend) setTimeout(() => flush(S), 0);
}

function applyDelta(S, msg) {
  const d = msg.delta;
  if (d) {
    for (const id of d.gone) { const sp = S.spans.get(id); if (sp) dropSpan(S, sp); }
    for (const sp of d.spans) putSpan(S, sp);
    for (const id of d.gone_links) S.links.delete(id);
    for (const k of d.links) S.links.set(k.id, k);
    if (d.links.length || d.gone_links.length) S.listDirty = true;
    for (const k of d.gone_suggestions || []) dropSugg(S, k);
    for (const g of d.suggestions || []) putSugg(S, g);
    if (S.selected !== null && !S.spans.has(S.selected)) S.selected = null;
  }
  S.rev = msg.rev;
}

function applyAcks(S, acks) {
  let last = null;
  for (const ack of acks || []) {
    const i = S.pending.findIndex((p) => p.op.cid === ack.cid);
    if (i < 0) continue;
    const [p] = S.pending.splice(i, 1);
    if (p.temp) dropSpan(S, p.temp);
    if (p.deleting !== null) { const sp = S.spans.get(p.deleting); if (sp) { sp.deleting = false; dirtySpan(S, sp.id); } }
    for (const k of [p.hide, ...(p.hideAll || [])]) {   // answered: the delta has removed it, or it shows again
      if (!k) continue;
      S.hidden.delete(k);
      const g = S.suggs.get('g:' + k);
      if (g) indexItem(S, g, S.showSugg);
    }
    if (ack.select !== undefined && ack.kind !== 'error') {
      if (S.selected !== null) dirtySpan(S, S.selected);
      S.selected = ack.select !== null && S.spans.has(ack.select) ? ack.select : null;
      // a tag or an accepted suggestion is where the analyst is looking: scrolling to it would only force a
      // layout; an undo or a relabel from the list may bring back a span out of view
      if (S.selected !== null) { dirtySpan(S, S.selected); if (!IN_VIEW.has(p.op.type)) S.scrollTo = S.selected; }
    }
    window.__nisbaLastConfirm = performance.now() - p.t0;
    last = ack;
  }
  if (last) setStatus(S, last.kind, messageParts(last.message));
  if (!S.pending.length) clearTimeout(S.resendTimer);
  S.box.dataset.pending = String(S.pending.length);
}

function applyUi(S, ui) {
  S.channel = ui.channel && ui.channel.token !== S.deadChannel ? ui.channel : null;
  S.snapWords = !!ui.snap_words;
  S.box.dataset.snapWords = S.snapWords ? '1' : '0';   // test hook: which snapping the next tag uses
  const pick = ui.select;
  if (pick && pick.seq !== S.selectSeq) {   // a selection made in Python (a search hit, a table, a link)
    S.selectSeq = pick.seq;
    if (pick.range) {
      if (S.selected !== null) { dirtySpan(S, S.selected); S.selected = null; }
      S.sel = { start: pick.range[0], end: pick.range[1] };
      S.showRange = S.sel;
    } else if (pick.id !== undefined) {
      if (S.selected !== null) dirtySpan(S, S.selected);
      S.selected = S.spans.has(pick.id) ? pick.id : null;
      if (S.selected !== null) { dirtySpan(S, S.selected); S.scrollTo = S.selected; }
    }
  }
}

function receive(S, msg) {
  if (msg.full) loadFull(S, msg);
  else if (msg.epoch !== S.epoch || S.rev === null) { askFull(S); return; }       // no copy of this document here
  else if (msg.base > S.rev) { askFull(S); return; }                              // a change we never saw
  else if (msg.rev > S.rev) applyDelta(S, msg);
  applyAcks(S, msg.acks);
  applyUi(S, msg.ui || {});
  if (msg.suggestion_error && msg.suggestion_error !== S.suggErr) { S.suggErr = msg.suggestion_error; setStatus(S, 'error', msg.suggestion_error); }
  if (S.nextFocus && !S.pending.length) { S.nextFocus = false; S.selected = null; focusSuggestion(S, 1); }
  S.link = S.link && S.spans.has(S.selected) ? S.link : null;
  flushDraw(S);
  S.box.dataset.rev = String(S.rev);
  if (S.scrollTo !== null && S.scrollTo !== undefined) { scrollToSpan(S, S.scrollTo); S.scrollTo = null; }
  if (S.showRange) {
    const r = S.showRange; S.showRange = null;
    requestAnimationFrame(() => { showSelection(S, r); const [leaf] = leafAt(S, r.start); leaf?.scrollIntoView({ block: 'center' });
      setStatus(S, 'info', [{ ar: shorten(S.cps, r.start, r.end, 40) }, ' ', { ltr: `${r.start}–${r.end}` }, ': press a label key']); });
  }
}

// ---- the label buttons --------------------------------------------------------------------------------
function renderLabels(S) {
  S.labelBar.replaceChildren(...S.labelList.map((l) => {
    const b = el('button', { type: 'button', title: l.description || l.name, data: { nisbaLabel: l.name } }, l.name);
    b.style.setProperty('--swatch', l.colour);
    if (l.hotkey) b.append(el('kbd', {}, l.hotkey));
    b.onmousedown = (e) => e.preventDefault();    // keep the text selection alive
    b.onclick = () => applyLabel(S, l.name);
    return b;
  }));
}

// ---- mouse and keyboard (installed once per mount) -----------------------------------------------------
function install(S) {
  const box = S.box;
  box.onmouseup = () => {
    const sel = readSelection(S);
    S.sel = sel;
    if (!sel) return;
    showSelection(S, sel);
    setStatus(S, 'info', [{ ar: shorten(S.cps, sel.start, sel.end, 40) }, ' ', { ltr: `${sel.start}–${sel.end}` }, ': press a label key']);
  };
  box.onclick = (e) => {
    if (readSelection(S)) return;                      // the end of a drag, not a click
    const piece = e.target.closest ? e.target.closest('mark') : null;
    if (!piece) { if (!S.link && S.selected !== null) select(S, null); return; }
    // the innermost mark is a suggestion: focus it (a second click goes on to the spans around it)
    if (!S.link && piece.classList.contains('sugg') && S.focus !== piece.dataset.suggKey) {
      setFocus(S, piece.dataset.suggKey);
      select(S, null);
      return;
    }
    const chain = [];
    for (let m = piece; m && m !== box; m = m.parentElement) if (m.dataset.spanId) chain.unshift(m.dataset.spanId);
    const ids = chain.map((v) => (/^\d+$/.test(v) ? Number(v) : v)).filter((id) => S.spans.has(id) && !S.spans.get(id).pending);
    if (!ids.length) return;
    setFocus(S, null);
    if (S.link) {
      const want = S.link === 'attributed_to' ? 'source' : 'cue';
      const target = [...ids].reverse().find((id) => (S.labels.get(S.spans.get(id).l) || {}).kind === want);
      if (target === undefined) { setStatus(S, 'error', `That is not a ${want.toUpperCase()} span.`); return; }
      send(S, { type: 'link', from_span_id: S.selected, to_span_id: target, link_type: S.link });
      S.link = null;
      for (const s of S.spans.values()) dirtySpan(S, s.id);
      flushDraw(S);
      return;
    }
    const i = ids.indexOf(S.selected);
    select(S, i > 0 ? ids[i - 1] : ids[ids.length - 1]);   // cycle outward, then back to the innermost
  };
  S.undoBtn.onmousedown = (e) => e.preventDefault();
  S.undoBtn.onclick = () => send(S, { type: 'undo' });
  S.suggToggle.onmousedown = (e) => e.preventDefault();
  S.suggToggle.onclick = () => showSuggestions(S, !S.showSugg);
  S.list.ontoggle = () => { if (S.list.open) { S.listDirty = true; renderList(S); } };
  S.rows.onclick = (e) => {
    const row = e.target.closest ? e.target.closest('.row[data-span-id]') : null;
    if (!row) return;
    const id = Number(row.dataset.spanId);
    if (S.spans.has(id)) select(S, id, true);
  };
  const g = (window.__nisbaKeys ??= { handler: null, installed: false });
  if (!g.installed) {   // one document-level listener for the page; each mount points it at its handler
    document.addEventListener('keydown', (e) => g.handler && g.handler(e), true);
    g.installed = true;
  }
  S.keyHandler = (e) => {
    if (!box.isConnected || isTyping(e) || e.isComposing) return;
    if (handleKey(S, e)) e.stopPropagation();   // ours: Streamlit's own shortcuts must not see it too
  };
  g.handler = S.keyHandler;
}

function handleKey(S, e) {
  const mod = e.ctrlKey || e.metaKey;
  if (mod && !e.altKey && keyIs(e, 'z')) { e.preventDefault(); send(S, { type: 'undo' }); return true; }
  if (mod || e.altKey) return false;
  if (e.key === 'Tab' && S.suggs.size && S.showSugg) { e.preventDefault(); focusSuggestion(S, e.shiftKey ? -1 : 1); return true; }
  if (e.key === 'Enter' && S.focus !== null && S.selected === null) { e.preventDefault(); acceptFocused(S); return true; }
  if (keyIs(e, 'x') && S.focus !== null && S.selected === null) { e.preventDefault(); dismissFocused(S); return true; }
  if (e.key === 'Escape') {
    setFocus(S, null);
    S.link = null; S.sel = null; document.getSelection()?.removeAllRanges();
    select(S, null);
    setStatus(S, '', '');
    return true;
  }
  if (e.key === 'Delete' || e.key === 'Backspace') {
    const sp = S.spans.get(S.selected);
    if (sp && !sp.pending) { e.preventDefault(); deleteSpan(S, sp); return true; }
    return false;
  }
  if (e.key === 'PageDown' || keyIs(e, 'n')) { e.preventDefault(); send(S, { type: 'nav', step: 1 }); return true; }
  if (e.key === 'PageUp' || keyIs(e, 'p')) { e.preventDefault(); send(S, { type: 'nav', step: -1 }); return true; }
  if (keyIs(e, 'a')) { e.preventDefault(); startLink(S, 'attributed_to'); return true; }
  if (keyIs(e, 'l')) { e.preventDefault(); startLink(S, 'cue'); return true; }
  const lab = (S.labelList || []).find((l) => keyIs(e, l.hotkey));
  if (lab) { e.preventDefault(); applyLabel(S, lab.name); return true; }
  return false;
}

function init(root) {
  const q = (name) => root.querySelector(`[data-nisba="${name}"]`);
  const S = {
    root, box: q('article'), status: q('status'), panel: q('panel'), labelBar: q('labels'), undoBtn: q('undo'),
    list: q('spans'), listSummary: q('spans-summary'), rows: q('span-rows'), suggToggle: q('toggle-suggestions'),
    suggs: new Map(), hidden: new Set(), focus: null, showSugg: (() => { try { return localStorage.getItem('nisba.suggestions') !== '0'; } catch (err) { return true; } })(),
    mount: Math.random().toString(36).slice(2, 8), seq: 0, epoch: null, rev: null, docId: null, text: null, cps: [],
    paras: [], chunks: [], chunkStarts: [], spans: new Map(), links: new Map(), labels: new Map(), labelList: [],
    dirty: new Set(), pending: [], selected: null, link: null, sel: null, selectSeq: undefined, snapWords: true,
    bounds: null, scrollTo: null, showRange: null, fillFrom: 0, channel: null, deadChannel: null, posting: false,
    postAgain: false,
  };
  install(S);
  return S;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  // state lives on the shadow root: this function runs again on every data change, without the previous
  // cleanup, and the same object is gone after a reload or a page change (the sign to ask for the full state)
  const S = (parentElement.__nisba ??= init(parentElement));
  S.trigger = setTriggerValue;
  if (!data) return;
  const msg = data instanceof Uint8Array || data instanceof ArrayBuffer ? JSON.parse(decoder.decode(data))
    : (typeof data === 'string' ? JSON.parse(data) : data);
  registerFont((msg.ui || {}).font_base);
  window.__nisbaKeys.handler = S.keyHandler;
  receive(S, msg);
  // No cleanup that unhooks the keys: Streamlit sometimes calls it between two runs of this function while the
  // article stays on the page, and a label key pressed in that gap was dropped (1 tag in 20 lost now and then on
  // the long document). The handler itself ignores keys once its article has left the page (box.isConnected).
}
