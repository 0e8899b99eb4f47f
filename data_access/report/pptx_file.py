"""The deck as a PowerPoint file (python-pptx): one 16:9 slide per ``Slide``, laid out by ``layout.place``,
with the speaker notes in each slide's notes and the text in Noto Sans CJK SC (Debian ``fonts-noto-cjk``;
PowerPoint substitutes a Chinese font where it is not installed)."""

from __future__ import annotations

import io

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Inches, Pt

from . import layout
from .charts import FONT_FAMILY
from .slides import Deck, Slide

INK = RGBColor(0x1F, 0x2D, 0x3D)
MUTED = RGBColor(0x5B, 0x6B, 0x7F)
ACCENT = RGBColor(0x1F, 0x6F, 0xD1)
TILE = RGBColor(0xF1, 0xF5, 0xFA)
HEADER = RGBColor(0x1F, 0x4E, 0x8C)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)


def _font(run, size: float, color=INK, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.color.rgb = color
    run.font.name = FONT_FAMILY
    rpr = run._r.get_or_add_rPr()
    for tag in ("a:ea", "a:cs"):
        found = rpr.find(qn(tag))
        if found is None:
            found = rpr.makeelement(qn(tag), {})
            rpr.append(found)
        found.set("typeface", FONT_FAMILY)


def _text(shape, lines, align=PP_ALIGN.LEFT) -> None:
    """``lines``: (text, size, colour, bold[, link]) per paragraph."""
    frame = shape.text_frame
    frame.word_wrap = True
    for k, (text, size, color, bold, *url) in enumerate(lines):
        para = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
        para.alignment = align
        run = para.add_run()
        run.text = text
        _font(run, size, color, bold)
        if url and url[0]:
            run.hyperlink.address = url[0]


def _box(slide, box: layout.Box):
    return slide.shapes.add_textbox(Inches(box.left), Inches(box.top), Inches(box.width), Inches(box.height))


def _tile(slide, box: layout.Box, figure, url: str | None) -> None:
    shape = slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, Inches(box.left), Inches(box.top), Inches(box.width),
                                   Inches(box.height))
    shape.fill.solid()
    shape.fill.fore_color.rgb = TILE
    shape.line.color.rgb = RGBColor(0xD5, 0xDD, 0xE8)
    shape.adjustments[0] = 0.08
    narrow = box.width < 2.2  # six tiles in a row
    value = 40 if box.width > 2.5 else 28 if narrow else 30
    lines = [(figure.label, 12 if narrow else 15, MUTED, False), (figure.text, value, ACCENT, True, url)]
    lines += [(note, 10 if narrow else 13, MUTED, False) for note in figure.notes]
    frame = shape.text_frame
    frame.margin_left = frame.margin_right = Inches(0.04)
    _text(shape, lines, PP_ALIGN.CENTER)


def _table(slide, box: layout.Box, table, link) -> None:
    from .pdf_file import _widths, fitting_size

    rows = len(table.rows) + 1
    size = 14 if rows <= 9 else 12 if rows <= 13 else 10.5
    size = min(size, fitting_size(table, box.width) * 0.92)  # PowerPoint's cells keep a margin
    title = _box(slide, layout.Box("caption", 0, box.left, box.top, box.width, 0.4))
    _text(title, [(table.title, 16, INK, True)])
    top = box.top + 0.45
    if not table.rows:
        _text(_box(slide, layout.Box("caption", 0, box.left, top, box.width, 0.5)),
              [(table.caption or "—", 14, MUTED, False)])
        return
    height = min(box.height - 0.45, rows * (size / 72 * 2.1))
    shape = slide.shapes.add_table(rows, len(table.columns), Inches(box.left), Inches(top), Inches(box.width),
                                   Inches(height))
    grid = shape.table
    for j, width in enumerate(_widths(table, box.width)):
        grid.columns[j].width = Inches(width)
    for j, name in enumerate(table.columns):
        cell = grid.cell(0, j)
        cell.fill.solid()
        cell.fill.fore_color.rgb = HEADER
        run = cell.text_frame.paragraphs[0].add_run()
        run.text = name
        _font(run, size, WHITE, True)
        cell.margin_left = cell.margin_right = Inches(0.05)
    for i, row in enumerate(table.rows, start=1):
        for j, fig in enumerate(row):
            cell = grid.cell(i, j)
            cell.fill.solid()
            cell.fill.fore_color.rgb = WHITE if i % 2 else TILE
            para = cell.text_frame.paragraphs[0]
            run = para.add_run()
            run.text = fig.text
            _font(run, size)
            url = link(fig.link)
            if url:
                run.hyperlink.address = url
            cell.margin_top = cell.margin_bottom = Inches(0.03)
            cell.margin_left = cell.margin_right = Inches(0.05)


def _slide(prs, page: Slide, stamp: str, link) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank
    for box in layout.place(page):
        if box.what == "title":
            _text(_box(slide, box), [(page.title, 44 if page.kind == "cover" else 32, INK, True)],
                  PP_ALIGN.CENTER if page.kind == "cover" else PP_ALIGN.LEFT)
        elif box.what == "subtitle":
            _text(_box(slide, box), [(page.subtitle, 20 if page.kind == "cover" else 16, MUTED, False)],
                  PP_ALIGN.CENTER if page.kind == "cover" else PP_ALIGN.LEFT)
        elif box.what == "figure":
            figure = page.figures[box.index]
            _tile(slide, box, figure, link(figure.link))
        elif box.what == "caption":
            _text(_box(slide, box), [(page.caption, 12, MUTED, False)])
        elif box.what == "table":
            _table(slide, box, page.tables[box.index], link)
        elif box.what == "image":
            image = page.images[box.index]
            placed = layout.fit(box, image.png)
            slide.shapes.add_picture(io.BytesIO(image.png), Inches(placed.left), Inches(placed.top),
                                     Inches(placed.width), Inches(placed.height))
    if page.kind != "cover":
        _text(_box(slide, layout.Box("caption", 0, layout.MARGIN, layout.HEIGHT - 0.4, layout.WIDTH - 2 * layout.MARGIN,
                                     0.3)), [(stamp, 10, MUTED, False)], PP_ALIGN.RIGHT)
    slide.notes_slide.notes_text_frame.text = "\n".join(page.notes)


def write(deck: Deck, base: str | None = None) -> bytes:
    """The PPTX; with ``base`` (the product's address, https://…) every figure links to its appeals there."""
    from .links import href

    def link(target):
        return href(target, deck, base) if base else None

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(layout.WIDTH), Inches(layout.HEIGHT)
    stamp = f"{deck.scope_name} · {deck.stamp}"
    for page in deck.slides:
        _slide(prs, page, stamp, link)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()
