"""The meeting's slides and its pack (the PPTX, the PDF and the Excel handed out), from ``MeetingFigures``.

* ``slides``: one slide model (``Deck`` of ``Slide``), made from the figures alone, live or frozen;
* ``charts`` and ``maps``: its images, drawn with matplotlib (a CJK font, no internet: maps from the region
  outlines of the system of record);
* ``pptx_file``, ``pdf_file``, ``appendix``: the same slides as a PPTX and a PDF, and the table appendix
  (every unit's figures) as slides and as an Excel workbook;
* ``pack``: the three files at once.

``/present`` (ui/present.py) draws the same ``Deck`` as HTML.
"""
