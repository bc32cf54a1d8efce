"""The read-only layered view of the review screen: escaped text, one band per annotator, gold shading."""

from annotator.models import Label, Span
from annotator.ui.review_layers import layers_html, legend_html

LABELS = [Label(1, 1, "CLAIM", colour="#ffd966"), Label(2, 1, "SOURCE", colour="#9fc5f8")]


def span(id_, annotator, label, start, end, text, layer="annotator"):
    return Span(id_, 1, 1, label, annotator, start, end, text[start:end], layer=layer)


def test_markup_in_the_article_and_in_names_stays_text():
    text = 'قال <script>alert(1)</script> "x"'
    html = layers_html(text, [span(1, 7, "CLAIM", 4, 29, text)], [7], LABELS, names={7: '"><img src=x onerror=alert(1)>'})
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img" in html
    assert 'dir="rtl"' in html
    legend = legend_html([7], {7: "<b>x</b>"}, LABELS)
    assert "&lt;b&gt;x&lt;/b&gt;" in legend


def test_each_annotator_has_a_band_in_the_label_colour_and_gold_is_shaded():
    text = "ماركو روبيو قال"
    spans = [span(1, 7, "SOURCE", 0, 11, text), span(2, 8, "CLAIM", 0, 11, text), span(3, 8, "CLAIM", 12, 15, text)]
    gold = [span(4, 9, "SOURCE", 0, 11, text, layer="gold")]
    html = layers_html(text, spans, [7, 8], LABELS, gold=gold, names={7: "amal", 8: "badr"}, focus=(12, 15))
    first = html[html.index('data-start="0"') :].split(">", 1)[0]
    # band 1 (amal) SOURCE blue, band 2 (badr) CLAIM yellow, gold SOURCE shading, tooltip names both
    assert "0 3px 0 0 #9fc5f8" in first and "0 7px 0 0 #ffd966" in first
    assert "background-color:#9fc5f866" in first
    assert "amal: SOURCE" in first and "badr: CLAIM" in first and "gold: SOURCE" in first
    # only badr tagged «قال»: band 1 is masked white, band 2 is yellow; the focused row is tinted
    last = html[html.index('data-start="12"') :].split(">", 1)[0]
    assert "0 3px 0 0 #fff" in last and "0 7px 0 0 #ffd966" in last and "linear-gradient" in last
    # the text is whole, in order, with nothing added
    assert "ماركو روبيو" in html and "قال" in html


QUOTE = Label(3, 1, "QUOTE", colour="#b6d7a8")


def bands_of(html: str, start: int) -> list[str]:
    """The colours of the bands over the piece that starts at ``start``, nearest the text first."""
    tag = html[html.index(f'data-start="{start}"') :].split(">", 1)[0]
    shadows = tag.split("box-shadow:", 1)[1].split(";", 1)[0].split('"', 1)[0].split(",")
    return [s.split()[-1] for s in shadows[::2]]  # every other shadow is the white gap


def test_nested_spans_are_visible_in_every_annotators_bands():
    text = "قال الوزير إن «الاتفاق سيوقع غدا» في بيان"
    q0, q1 = text.index("«"), text.index("»") + 1
    c0, c1 = text.index("إن"), text.index(" في")
    spans = [
        span(1, 7, "CLAIM", c0, c1, text),  # amal: a CLAIM around a QUOTE
        span(2, 7, "QUOTE", q0, q1, text),
        span(3, 8, "CLAIM", c0, c1, text),  # badr: the same nest
        span(4, 8, "QUOTE", q0, q1, text),
        span(5, 9, "SOURCE", 4, 10, text),  # rana: one flat span
    ]
    html = layers_html(text, spans, [7, 8, 9], [*LABELS, QUOTE], names={7: "amal", 8: "badr", 9: "rana"})
    # inside the quote: amal's CLAIM and QUOTE, badr's CLAIM and QUOTE, each in its own band; rana's band empty
    assert bands_of(html, q0) == ["#ffd966", "#b6d7a8", "#ffd966", "#b6d7a8"]
    # before the quote, inside the CLAIM only: the outer band of each annotator, the QUOTE bands white
    assert bands_of(html, c0) == ["#ffd966", "#fff", "#ffd966"]
    # rana's SOURCE is in the fifth band (amal and badr have two each)
    assert bands_of(html, 4) == ["#fff", "#fff", "#fff", "#fff", "#9fc5f8"]
    tip = html[html.index(f'data-start="{q0}"') :].split(">", 1)[0]
    assert "① amal: CLAIM · ① amal: QUOTE · ② badr: CLAIM · ② badr: QUOTE" in tip
    legend = legend_html([7, 8, 9], {7: "amal", 8: "badr", 9: "rana"}, [*LABELS, QUOTE], spans)
    assert "bands 1–2" in legend and "bands 3–4" in legend and "band 5" in legend


def test_the_focused_row_is_marked_for_scrolling():
    text = "ماركو روبيو قال"
    html = layers_html(text, [span(1, 7, "SOURCE", 0, 11, text), span(2, 7, "CUE", 12, 15, text)], [7], LABELS, focus=(12, 15))
    focused = [p for p in html.split("<span ")[1:] if 'data-focus="1"' in p]
    assert len(focused) == 1 and focused[0].startswith('data-start="12"') and ">قال<" in focused[0]
