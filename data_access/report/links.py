"""The address of a slide figure's appeals, without Streamlit: the same path and query as the screens'
``ui.cases.figure_url`` (tests/test_slides_links.py checks that they agree), so that the PPTX and the PDF can
link each figure to the live product when they are given its address (``base``)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from ..meeting import MeetingFigures
from .slides import Deck, Link


def _period(figures) -> dict[str, str]:
    last = (figures.period_end - dt.timedelta(microseconds=1)).date()
    return {"period": "custom", "from": figures.period_start.date().isoformat(), "to": last.isoformat()}


def href(target: Link | None, figures: MeetingFigures | Deck, base: str = "") -> str | None:
    """``base`` + the path and query of the figure's list (None for a figure without one). ``figures``: the
    meeting's figures or their deck (both carry the period and the as-of time the lists are judged at)."""
    if target is None:
        return None
    as_of = figures.as_of.replace(microsecond=0).isoformat()
    if target.page == "case":
        path, params = "/case", {"id": target.figure}
    elif target.page == "alerts":
        path, params = "/alerts", {"region": target.region, **_period(figures), "as_of": as_of}
    else:
        path = "/cases"
        params = {"figure": target.figure, "region": target.region, **(dict(target.period) or _period(figures)),
                  "as_of": as_of, **{k: v for k, v in target.filters if v not in (None, "")}}
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base.rstrip('/')}{path}?{query}"
