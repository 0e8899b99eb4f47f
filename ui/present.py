"""Presentation mode (/present): the meeting's slides (data_access/report/slides.py) as one HTML document.

All slides are drawn at once, at 1920×1080 and scaled to the screen, so that moving between them needs no
rerun: a small script moves on with ArrowRight, PageDown, space or ArrowDown (a presenter's clicker sends
PageDown and PageUp) and back with ArrowLeft, PageUp or ArrowUp; Home and End go to the first and last; N
shows the speaker notes (the figures' definitions); F fills the screen and Esc leaves it. The current slide
is kept in the URL's hash (``#3``), so a reload stays on it.

Every figure links to its appeals on /cases (same tab), at the figures' as-of time (``cases.figure_url``).
"""

from __future__ import annotations

import base64
import html

from data_access.meeting import MeetingFigures
from data_access.report.slides import Deck, Figure, Link, Slide

from .cases import figure_url
from .params import link as page_link
from .snapshots import frozen_view

THEMES = ("dark", "light")


def url_of(target: Link | None, figures: MeetingFigures) -> str | None:
    """The URL of a figure's appeals (None for a figure without a list)."""
    if target is None:
        return None
    view = frozen_view(figures)
    if target.page == "case":
        return page_link("case", id=target.figure)
    if target.page == "alerts":
        return page_link("alerts", region=target.region, **{k: v for k, v in view.carried().items() if k != "kiosk"})
    return figure_url(target.figure, view, figures.as_of, region=target.region,
                      period=dict(target.period) or None, **dict(target.filters))


def _a(text: str, url: str | None, cls: str = "") -> str:
    body = html.escape(text)
    if not url:
        return f'<span class="{cls}">{body}</span>' if cls else body
    return f'<a class="{cls}" href="{html.escape(url)}" target="_self" title="查看工单">{body}</a>'


def _figure(fig: Figure, figures: MeetingFigures) -> str:
    notes = "".join(f'<span class="fig-note">{html.escape(n)}</span>' for n in fig.notes)
    url = url_of(fig.link, figures)
    value = _a(fig.text, url, "fig-value")
    return (f'<div class="fig" data-key="{html.escape(fig.key or "")}"><span class="fig-label">{html.escape(fig.label)}'
            f'</span>{value}{notes}</div>')


def _table(table, figures: MeetingFigures) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    rows = "".join("<tr>" + "".join(f"<td>{_a(c.text, url_of(c.link, figures))}</td>" for c in row) + "</tr>"
                   for row in table.rows)
    empty = f'<p class="empty">{html.escape(table.caption)}</p>' if not table.rows and table.caption else ""
    return (f'<div class="tbl"><h3>{html.escape(table.title)}</h3>'
            + (f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>" if table.rows else "")
            + empty + "</div>")


def _image(image) -> str:
    data = base64.b64encode(image.png).decode("ascii")
    return (f'<figure class="img"><figcaption>{html.escape(image.title)}</figcaption>'
            f'<img alt="{html.escape(image.alt)}" src="data:image/png;base64,{data}"></figure>')


def _slide(index: int, slide: Slide, deck: Deck, figures: MeetingFigures) -> str:
    figs = "".join(_figure(f, figures) for f in slide.figures)
    tables, images = slide.tables, slide.images
    if slide.kind == "unit" and tables:  # the categories as a table: each count links to its appeals
        images = tuple(i for i in images if i.title != "主要诉求类别")
    body = "".join(_image(i) for i in images) + "".join(_table(t, figures) for t in tables)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in slide.notes)
    caption = f'<p class="caption">{html.escape(slide.caption)}</p>' if slide.caption else ""
    return (f'<section class="slide kind-{slide.kind}" data-index="{index}" data-kind="{slide.kind}"'
            f'{"" if index == 1 else " hidden"}>'
            f'<header><h1>{html.escape(slide.title)}</h1><p class="sub">{html.escape(slide.subtitle)}</p></header>'
            + (f'<div class="figs n{len(slide.figures)}">{figs}</div>' if figs else "")
            + (f'<div class="body n{len(tables) + len(images)}">{body}</div>' if body else "")
            + caption
            + f'<aside class="notes"><h4>讲稿备注 · 指标口径</h4><ul>{notes}</ul></aside>'
            + f'<footer>{html.escape(deck.scope_name)} · {html.escape(deck.stamp)}</footer></section>')


CSS = """
<style>
.present-stage { position: relative; width: 100%; height: min(52vw, calc(100vh - 190px)); min-height: 320px;
  overflow: hidden; border-radius: 6px;
  background: #050b18; outline: none; }
.present-stage.full { position: fixed; inset: 0; width: 100vw; height: 100vh; z-index: 1000000;
  border-radius: 0; }
.present-deck { position: absolute; left: 0; top: 0; width: 1920px; height: 1080px; transform-origin: 0 0;
  font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif; }
.present-deck.dark { --bg: #0b1730; --fg: #e6eefc; --muted: #9fb2cf; --accent: #3fc1ff; --tile: #13264a;
  --line: #2a3e5c; --head: #1d3b66; }
.present-deck.light { --bg: #ffffff; --fg: #1f2d3d; --muted: #5b6b7f; --accent: #1f6fd1; --tile: #f1f5fa;
  --line: #d5dde8; --head: #1f4e8c; }
.present-deck .slide { position: absolute; inset: 0; background: var(--bg); color: var(--fg); padding: 56px 72px 64px;
  box-sizing: border-box; display: flex; flex-direction: column; gap: 28px; }
.present-deck .slide[hidden] { display: none; }
.present-deck header h1 { font-size: 64px; margin: 0; line-height: 1.15; font-weight: 700; color: var(--fg); padding: 0; }
.present-deck header .sub { font-size: 30px; margin: 8px 0 0; color: var(--muted); }
.present-deck .kind-cover { justify-content: center; align-items: center; text-align: center; }
.present-deck .kind-cover header h1 { font-size: 96px; }
.present-deck .kind-cover header .sub { font-size: 38px; margin-top: 24px; }
.present-deck .figs { display: flex; gap: 24px; }
.present-deck .fig { flex: 1; background: var(--tile); border: 1px solid var(--line); border-radius: 14px;
  padding: 18px 12px; display: flex; flex-direction: column; align-items: center; gap: 4px; min-width: 0; }
.present-deck .kind-cover .fig { flex: 0 0 420px; }
.present-deck .fig-label { font-size: 30px; color: var(--muted); white-space: nowrap; }
.present-deck .fig-value { font-size: 80px; font-weight: 700; color: var(--accent); text-decoration: none; line-height: 1.1; }
.present-deck a.fig-value:hover { text-decoration: underline; }
.present-deck .fig-note { font-size: 26px; color: var(--muted); white-space: nowrap; }
.present-deck .body { flex: 1; display: flex; gap: 32px; min-height: 0; }
.present-deck .tbl { flex: 1; min-width: 0; overflow: hidden; }
.present-deck .kind-rankings .body { display: grid; grid-template-columns: 1.55fr 1fr; grid-template-rows: 1fr 1fr;
  gap: 18px 40px; }
.present-deck .kind-rankings .img { grid-column: 2; grid-row: 1 / span 2; }
.present-deck .kind-rankings table, .present-deck .kind-overdue table { font-size: 24px; }
.present-deck .kind-rankings .tbl h3 { font-size: 28px; }
.present-deck .kind-overdue .tbl:first-child { flex: 1.7; }
.present-deck .kind-unit .img:first-child { flex: 0.8; }
.present-deck .kind-unit .img + .img { flex: 1.3; }
.present-deck .tbl h3 { font-size: 32px; margin: 0 0 10px; color: var(--fg); padding: 0; }
.present-deck table { border-collapse: collapse; width: 100%; font-size: 27px; }
.present-deck th { background: var(--head); color: #fff; text-align: left; padding: 6px 12px; font-weight: 600; }
.present-deck td { padding: 5px 12px; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; max-width: 420px; }
.present-deck td a { color: var(--accent); text-decoration: none; }
.present-deck .empty { font-size: 28px; color: var(--muted); }
.present-deck .img { flex: 1; margin: 0; min-width: 0; display: flex; flex-direction: column; }
.present-deck .img figcaption { font-size: 28px; color: var(--muted); margin-bottom: 6px; }
.present-deck .img img { flex: 1; min-height: 0; width: 100%; object-fit: contain; }
.present-deck .caption { font-size: 24px; color: var(--muted); margin: 0; }
.present-deck footer { position: absolute; left: 72px; bottom: 20px; font-size: 22px; color: var(--muted); }
.present-deck .notes { display: none; position: absolute; right: 40px; bottom: 70px; width: 900px; max-height: 640px;
  overflow: auto; background: rgba(0, 0, 0, .82); color: #f5f7fa; border-radius: 12px; padding: 20px 28px;
  font-size: 26px; line-height: 1.45; z-index: 5; }
.present-deck .notes h4 { margin: 0 0 8px; font-size: 26px; color: #ffd666; padding: 0; }
.present-deck.show-notes .notes { display: block; }
.present-counter { position: absolute; right: 28px; bottom: 16px; font-size: 22px; z-index: 6;
  font-family: "Noto Sans CJK SC", sans-serif; padding: 2px 12px; border-radius: 8px; }
.present-stage .present-counter { color: #9fb2cf; background: rgba(0, 0, 0, .25); }
.present-stage.light { background: #e6ebf2; }
.present-stage.light .present-counter { color: #3d4d63; background: rgba(31, 45, 61, .08); }
.present-help { font-size: .9rem; color: #8aa3c7; margin: 4px 0 0; }
</style>
"""

SCRIPT = """
<script>
(function () {
  const stage = document.getElementById("present-stage");
  if (!stage) { return; }
  const deck = stage.querySelector(".present-deck");
  const slides = Array.from(deck.querySelectorAll("section.slide"));
  const counter = stage.querySelector(".present-counter");
  const total = slides.length;
  function fit() {
    const box = stage.getBoundingClientRect();
    const scale = Math.min(box.width / 1920, box.height / 1080);
    deck.style.transform = "translate(" + ((box.width - 1920 * scale) / 2) + "px," +
      ((box.height - 1080 * scale) / 2) + "px) scale(" + scale + ")";
  }
  function show(n, keep) {
    const k = Math.max(1, Math.min(total, n));
    slides.forEach(function (s, i) { s.hidden = (i + 1) !== k; });
    stage.dataset.current = String(k);
    counter.textContent = k + " / " + total;
    if (keep) { return; }  // opening the page leaves its address as it was linked
    try { history.replaceState(history.state, "", location.pathname + location.search + "#" + k); } catch (e) {}
  }
  function current() { return parseInt(stage.dataset.current || "1", 10); }
  const start = parseInt((location.hash || "").replace("#", ""), 10);
  show(isNaN(start) ? 1 : start, true);
  fit();
  if (window.__presentResize) { window.removeEventListener("resize", window.__presentResize); }
  window.__presentResize = fit;
  window.addEventListener("resize", fit);
  if (window.__presentKeys) { document.removeEventListener("keydown", window.__presentKeys, true); }
  window.__presentKeys = function (ev) {
    if (!document.body.contains(stage)) { return; }
    const t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) { return; }
    const key = ev.key;
    let handled = true;
    if (key === "ArrowRight" || key === "PageDown" || key === " " || key === "Spacebar" || key === "ArrowDown") {
      show(current() + 1);
    } else if (key === "ArrowLeft" || key === "PageUp" || key === "ArrowUp") {
      show(current() - 1);
    } else if (key === "Home") { show(1); }
    else if (key === "End") { show(total); }
    else if (key === "n" || key === "N") { deck.classList.toggle("show-notes"); }
    else if (key === "f" || key === "F") { stage.classList.toggle("full"); fit(); }
    else if (key === "Escape") { stage.classList.remove("full"); fit(); }
    else { handled = false; }
    if (handled) { ev.preventDefault(); ev.stopPropagation(); }
  };
  document.addEventListener("keydown", window.__presentKeys, true);
  stage.addEventListener("click", function (ev) {
    if (ev.target.closest("a")) { return; }
    const box = stage.getBoundingClientRect();
    show(current() + (ev.clientX - box.left > box.width / 3 ? 1 : -1));
  });
})();
</script>
"""


def document(deck: Deck, figures: MeetingFigures, theme: str) -> str:
    """The slides, the counter and the script, as one HTML fragment for ``st.html``."""
    look = theme if theme in THEMES else THEMES[0]
    slides = "".join(_slide(i, s, deck, figures) for i, s in enumerate(deck.slides, start=1))
    return (CSS + f'<div id="present-stage" class="present-stage {look}" data-current="1" data-count="{len(deck.slides)}" '
            f'tabindex="0"><div class="present-deck {look}">{slides}</div>'
            f'<div class="present-counter">1 / {len(deck.slides)}</div></div>' + SCRIPT)
