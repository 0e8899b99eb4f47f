"""The import report, and the quarantine file written next to it."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ImportReport:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    quarantine_reasons: Counter = field(default_factory=Counter)
    warnings: Counter = field(default_factory=Counter)
    quarantine_file: str | None = None
    # added keys (the ones above are the contract and stay as they are)
    warning_rows: dict = field(default_factory=dict)  # kind -> the first rows (file row numbers) it applies to
    time_formats: dict = field(default_factory=dict)  # time field -> the layouts its column was read with
    time_order_undecided: list = field(default_factory=list)  # time fields read month first for want of a clue
    # the mark an import that did not finish left (its file, start, rows done); only then in as_dict()
    resumed: dict | None = None
    report_file: str | None = None
    source: str = ""

    def as_dict(self) -> dict:
        """The command-line contract: these keys, in this order; keys are only ever added at the end.

        ``resumed`` is there only when the import found the mark of an earlier one that did not finish.
        """
        out = {
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
            "quarantine_reasons": dict(sorted(self.quarantine_reasons.items())),
            "warnings": dict(sorted(self.warnings.items())),
            "quarantine_file": self.quarantine_file,
            "warning_rows": dict(sorted(self.warning_rows.items())),
            "time_formats": dict(self.time_formats),
            "time_order_undecided": list(self.time_order_undecided),
        }
        if self.resumed is not None:
            out["resumed"] = dict(self.resumed)
        return out

    @property
    def balanced(self) -> bool:
        return self.read == self.inserted + self.updated + self.unchanged + self.quarantined


def write_report(report: ImportReport, path: Path) -> None:
    path.write_text(json.dumps({"source": report.source, **report.as_dict()}, ensure_ascii=False, indent=2)
                    + "\n", encoding="utf-8")
    report.report_file = str(path)


def write_quarantine(path: Path, columns: list[str], rows: list[tuple[int, dict, str, str]]) -> None:
    """Each quarantined record whole, with its row number in the source and the reason."""
    extra = sorted({k for _, record, _, _ in rows for k in record if k not in columns and not k.startswith("__")})
    writer = QuarantineWriter(columns, extra)
    writer.open(path)
    try:
        writer.write(rows)
    finally:
        writer.close()


class QuarantineWriter:
    """The quarantine file, written batch by batch: opened at the first quarantined row."""

    def __init__(self, columns: list[str], extra: list[str] = ()):
        self.columns = [*columns, *extra]
        self.path: str | None = None
        self._fh = None
        self._writer = None

    def open(self, path: Path) -> None:
        self._fh = Path(path).open("w", newline="", encoding="utf-8-sig")  # the BOM lets Excel read the Chinese
        self._writer = csv.writer(self._fh)
        self._writer.writerow(["_row", "_reason", "_detail", *self.columns, "_extra_fields"])
        self.path = str(path)

    def write(self, rows) -> None:
        """Rows of (row number, record, reason, detail)."""
        for row, record, reason, detail in rows:
            cells = [_cell(record.get(c)) for c in self.columns]
            self._writer.writerow([row, reason, detail, *cells, record.get("__extra__", "")])
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
