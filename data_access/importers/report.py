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
    report_file: str | None = None
    source: str = ""

    def as_dict(self) -> dict:
        """The command-line contract: these keys, in this order; keys are only ever added at the end."""
        return {
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
    header = ["_row", "_reason", "_detail", *columns, *extra, "_extra_fields"]
    with path.open("w", newline="", encoding="utf-8-sig") as fh:  # the BOM lets Excel read the Chinese
        writer = csv.writer(fh)
        writer.writerow(header)
        for row, record, reason, detail in rows:
            cells = [_cell(record.get(c)) for c in [*columns, *extra]]
            writer.writerow([row, reason, detail, *cells, record.get("__extra__", "")])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
