"""Read the pages' HTML tables (``ui.tables.html_table``) in AppTest runs, as DataFrames.

A link cell reads as its URL; a column whose every cell is a number (``1,234``, ``56.7``; ``—`` for none)
reads as numbers.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd

_INT = re.compile(r"^-?\d{1,3}(,\d{3})*$|^-?\d+$")
_FLOAT = re.compile(r"^-?[\d,]*\.\d+$")


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.name = None
        self.row = None
        self.cell = None
        self.href = None  # the URL of the link in the current body cell

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self.name = attrs["data-table"]
            self.tables[self.name] = []
        elif self.name is None:
            return
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""
        elif tag == "a" and self.cell is not None and self.tables[self.name]:  # not in the header row
            self.href = attrs.get("href", "")

    def handle_endtag(self, tag):
        if self.name is None:
            return
        if tag in ("td", "th") and self.row is not None:
            if self.href is not None:
                self.row.append(self.href)
                self.href = None
            else:
                self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.name].append(self.row)
            self.row = None
        elif tag == "table":
            self.name = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def _number(column: pd.Series) -> pd.Series:
    cells = [c for c in column if c not in ("—", "")]
    if cells and all(_INT.match(c) for c in cells):
        return column.map(lambda c: None if c in ("—", "") else int(c.replace(",", "")))
    if cells and all(_INT.match(c) or _FLOAT.match(c) for c in cells):
        return column.map(lambda c: float("nan") if c in ("—", "") else float(c.replace(",", "")))
    return column


def html_tables(at, *, text: bool = False) -> dict[str, pd.DataFrame]:
    """Every HTML table of an AppTest run, by its name (``text``: every cell as the browser shows it)."""
    parser = _Tables()
    for element in at.get("html"):
        parser.feed(element.proto.body)
    out = {}
    for name, rows in parser.tables.items():
        head = [re.sub(r" [↑↓]$", "", h) for h in rows[0]]
        df = pd.DataFrame(rows[1:], columns=head) if len(rows) > 1 else pd.DataFrame(columns=head)
        out[name] = df.apply(_number) if len(df) and not text else df
    return out


class _Table:
    def __init__(self, value: pd.DataFrame):
        self.value = value


def all_tables(at) -> list:
    """Every table of an AppTest run, data grids (``st.dataframe``) and HTML tables alike, each with ``.value``."""
    return [*at.dataframe, *(_Table(df) for df in html_tables(at).values())]
