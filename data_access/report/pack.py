"""The meeting pack: the PPTX and the PDF of the same slides (with the table appendix), and the Excel of the
appendix's tables, made from one ``MeetingFigures`` (live, or a frozen snapshot's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .. import exports
from ..meeting import MeetingFigures
from . import pdf_file, pptx_file, slides

FORMATS = ("pptx", "pdf")
MIME = {"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pdf": "application/pdf", "xlsx": exports.XLSX_MIME}


@dataclass(frozen=True)
class Pack:
    deck: slides.Deck
    files: Mapping[str, bytes]  # pptx, pdf, xlsx

    def __getitem__(self, kind: str) -> bytes:
        return self.files[kind]


def deck(figures: MeetingFigures, outlines: Mapping[str, object] | None = None, title: str | None = None):
    """The pack's slides: the meeting's, then the table appendix."""
    return slides.deck(figures, outlines, title=title, with_appendix=True)


def workbook(figures: MeetingFigures) -> bytes:
    """The appendix's tables as an Excel workbook, one sheet each, as written on the slides."""
    return exports.tables_xlsx_bytes([(title.replace("·", "-"), written)
                                      for title, written, _ in slides.appendix_tables(figures)])


def build(figures: MeetingFigures, outlines: Mapping[str, object] | None = None, *, title: str | None = None,
          kinds=("pptx", "pdf", "xlsx"), base: str | None = None) -> Pack:
    """The files of ``kinds`` for the figures (the slides are made once). ``base``: the product's address
    (https://…): every figure of the PPTX and the PDF then links to its appeals there."""
    made = deck(figures, outlines, title)
    files = {}
    if "pptx" in kinds:
        files["pptx"] = pptx_file.write(made, base)
    if "pdf" in kinds:
        files["pdf"] = pdf_file.write(made, base)
    if "xlsx" in kinds:
        files["xlsx"] = workbook(figures)
    return Pack(made, files)
