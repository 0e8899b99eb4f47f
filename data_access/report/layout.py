"""Where each part of a slide goes on a 16:9 page (13.333 × 7.5 inches), for the PPTX and the PDF alike, so
that both files hold the same slides.

``place(slide)`` returns ``Box`` es in inches from the top left: the title, the subtitle, one box per figure
(a row of tiles), and the remaining area split between the slide's tables and images.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from .slides import Slide

WIDTH, HEIGHT = 13.333, 7.5
MARGIN = 0.5
TITLE_TOP, TITLE_HEIGHT = 0.35, 0.8
SUBTITLE_HEIGHT = 0.45
FIGURES_HEIGHT = 1.55
CAPTION_HEIGHT = 0.45
GAP = 0.25


@dataclass(frozen=True)
class Box:
    what: str  # title | subtitle | figure | table | image | caption
    index: int
    left: float
    top: float
    width: float
    height: float


def image_size(png: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return im.size


def fit(box: Box, png: bytes) -> Box:
    """The image's box: as large as fits in ``box``, its aspect kept, centred."""
    w, h = image_size(png)
    scale = min(box.width / w, box.height / h)
    width, height = w * scale, h * scale
    return Box(box.what, box.index, box.left + (box.width - width) / 2, box.top + (box.height - height) / 2,
               width, height)


def shown_tables(slide: Slide) -> list[int]:
    """The tables a page shows: a unit's slide shows its categories as a chart, the other slides every table."""
    if slide.kind == "unit" and slide.images:
        return []
    return list(range(len(slide.tables)))


def place(slide: Slide) -> list[Box]:
    inner = WIDTH - 2 * MARGIN
    if slide.kind == "cover":
        out = [Box("title", 0, MARGIN, 2.3, inner, 1.2), Box("subtitle", 0, MARGIN, 3.6, inner, 0.6)]
        if slide.figures:
            out.append(Box("figure", 0, MARGIN + inner / 2 - 1.8, 4.6, 3.6, 1.6))
        return out
    out = [Box("title", 0, MARGIN, TITLE_TOP, inner, TITLE_HEIGHT),
           Box("subtitle", 0, MARGIN, TITLE_TOP + TITLE_HEIGHT, inner, SUBTITLE_HEIGHT)]
    top = TITLE_TOP + TITLE_HEIGHT + SUBTITLE_HEIGHT + 0.15
    if slide.figures:
        n = len(slide.figures)
        width = (inner - GAP * (n - 1)) / n
        out += [Box("figure", i, MARGIN + i * (width + GAP), top, width, FIGURES_HEIGHT) for i in range(n)]
        top += FIGURES_HEIGHT + GAP
    bottom = HEIGHT - MARGIN
    if slide.caption:
        out.append(Box("caption", 0, MARGIN, bottom - CAPTION_HEIGHT, inner, CAPTION_HEIGHT))
        bottom -= CAPTION_HEIGHT + 0.1
    tables = shown_tables(slide)
    images = list(range(len(slide.images)))
    height = bottom - top
    if slide.kind == "rankings" and tables and images:
        left_width = inner * 0.6
        each = (height - GAP * (len(tables) - 1)) / len(tables)
        out += [Box("table", t, MARGIN, top + k * (each + GAP), left_width - GAP, each) for k, t in enumerate(tables)]
        out += [Box("image", i, MARGIN + left_width, top, inner - left_width, height) for i in images]
        return out
    parts = [("table", t) for t in tables] + [("image", i) for i in images]
    if not parts:
        return out
    if slide.kind == "unit" and len(images) == 3:
        widths = [0.28, 0.40, 0.32]
    else:
        widths = [1 / len(parts)] * len(parts)
    usable = inner - GAP * (len(parts) - 1)
    left = MARGIN
    for (what, i), share in zip(parts, widths):
        out.append(Box(what, i, left, top, usable * share, height))
        left += usable * share + GAP
    return out
