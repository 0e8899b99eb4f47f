"""The deck as a PDF: one 16:9 page per ``Slide``, laid out by ``layout.place`` as in the PPTX, drawn with
matplotlib (``PdfPages``) with Noto Sans CJK SC embedded (TrueType, ``pdf.fonttype`` 42), so that the text
can be searched and copied, and the speaker notes as a last line of small print on each page."""

from __future__ import annotations

import io

import matplotlib.image as mpimg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from . import charts, layout
from .slides import Deck, Slide

INK, MUTED, ACCENT, TILE, HEADER = "#1f2d3d", "#5b6b7f", "#1f6fd1", "#f1f5fa", "#1f4e8c"


class _Page:
    """A page in inches from the top left."""

    def __init__(self, fig):
        self.fig = fig

    def xy(self, left: float, top: float) -> tuple[float, float]:
        return left / layout.WIDTH, 1 - top / layout.HEIGHT

    def text(self, left, top, text, size, color=INK, bold=False, ha="left", va="top", width=None, url=None):
        x, y = self.xy(left, top)
        self.fig.text(x, y, text, fontsize=size, color=color, fontweight="bold" if bold else "normal", ha=ha, va=va,
                      wrap=width is not None, url=url)

    def rect(self, box: layout.Box, color, rounded=False, edge="none"):
        x, y = self.xy(box.left, box.top + box.height)
        w, h = box.width / layout.WIDTH, box.height / layout.HEIGHT
        if rounded:
            patch = FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.012", facecolor=color,
                                   edgecolor=edge, transform=self.fig.transFigure)
        else:
            patch = Rectangle((x, y), w, h, facecolor=color, edgecolor=edge, linewidth=0.5,
                              transform=self.fig.transFigure)
        self.fig.add_artist(patch)


def _tile(page: _Page, box: layout.Box, figure, url=None) -> None:
    page.rect(box, TILE, rounded=True, edge="#d5dde8")
    middle = box.left + box.width / 2
    page.text(middle, box.top + 0.12, figure.label, 15, MUTED, ha="center")
    page.text(middle, box.top + 0.42, figure.text, 40 if box.width > 2.5 else 30, ACCENT, bold=True, ha="center",
              url=url)
    for k, note in enumerate(figure.notes):
        page.text(middle, box.top + 1.0 + 0.24 * k, note, 12, MUTED, ha="center")


def _table(page: _Page, box: layout.Box, table, link=lambda target: None) -> None:
    page.text(box.left, box.top, table.title, 16, INK, bold=True)
    top = box.top + 0.45
    if not table.rows:
        page.text(box.left, top, table.caption or "—", 14, MUTED)
        return
    rows = len(table.rows) + 1
    size = 14 if rows <= 9 else 12 if rows <= 13 else 10.5
    size = min(size, fitting_size(table, box.width))
    height = min((box.height - 0.45) / rows, size / 72 * 2.1)
    size = min(size, height * 72 / 1.7)  # rows squeezed into a short box: a smaller type, never overlapping
    cols = len(table.columns)
    widths = _widths(table, box.width)
    for i in range(rows):
        y = top + i * height
        page.rect(layout.Box("row", i, box.left, y, box.width, height), HEADER if i == 0 else ("#ffffff" if i % 2 else TILE))
        left = box.left
        for j in range(cols):
            text = table.columns[j] if i == 0 else table.rows[i - 1][j].text
            url = None if i == 0 else link(table.rows[i - 1][j].link)
            page.text(left + 0.08, y + height / 2, text, size, "#ffffff" if i == 0 else (ACCENT if url else INK),
                      bold=i == 0, va="center", url=url)
            left += widths[j]


def _length(text: str) -> int:
    """A text's width in half-width units (a CJK character counts twice)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _longest(table) -> list[int]:
    return [max([_length(table.columns[j])] + [_length(r[j].text) for r in table.rows]) + 2
            for j in range(len(table.columns))]


def _widths(table, total: float) -> list[float]:
    """Column widths by the longest text of each column."""
    longest = _longest(table)
    return [total * n / sum(longest) for n in longest]


def fitting_size(table, width: float) -> float:
    """The largest font size (points) at which every column's longest text fits in ``width`` inches (a
    half-width unit is about 0.55 em)."""
    return width * 72 / (sum(_longest(table)) * 0.55)


def _page(pdf: PdfPages, page: Slide, stamp: str, link) -> None:
    fig = Figure(figsize=(layout.WIDTH, layout.HEIGHT), dpi=100)
    fig.patch.set_facecolor("#ffffff")
    p = _Page(fig)
    cover = page.kind == "cover"
    for box in layout.place(page):
        if box.what == "title":
            p.text(box.left + (box.width / 2 if cover else 0), box.top + 0.1, page.title, 44 if cover else 30, INK,
                   bold=True, ha="center" if cover else "left")
        elif box.what == "subtitle":
            p.text(box.left + (box.width / 2 if cover else 0), box.top + 0.05, page.subtitle, 20 if cover else 15,
                   MUTED, ha="center" if cover else "left")
        elif box.what == "figure":
            figure = page.figures[box.index]
            _tile(p, box, figure, link(figure.link))
        elif box.what == "caption":
            p.text(box.left, box.top + 0.05, page.caption, 11, MUTED)
        elif box.what == "table":
            _table(p, box, page.tables[box.index], link)
        elif box.what == "image":
            image = page.images[box.index]
            placed = layout.fit(box, image.png)
            x, y = p.xy(placed.left, placed.top + placed.height)
            ax = fig.add_axes((x, y, placed.width / layout.WIDTH, placed.height / layout.HEIGHT))
            ax.imshow(mpimg.imread(io.BytesIO(image.png), format="png"))
            ax.set_axis_off()
    if not cover:
        p.text(layout.WIDTH - layout.MARGIN, layout.HEIGHT - 0.35, stamp, 10, MUTED, ha="right")
    pdf.savefig(fig)


def write(deck: Deck, base: str | None = None) -> bytes:
    """The PDF; with ``base`` (the product's address, https://…) every figure links to its appeals there."""
    from .links import href

    def link(target):
        return href(target, deck, base) if base else None

    charts.setup()
    out = io.BytesIO()
    with PdfPages(out, metadata={"Title": deck.title, "Subject": deck.stamp, "Creator": "诉求指挥中心"}) as pdf:
        for page in deck.slides:
            _page(pdf, page, f"{deck.scope_name} · {deck.stamp}", link)
    return out.getvalue()
