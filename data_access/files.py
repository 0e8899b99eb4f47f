"""Files that hold personal data and password hashes are readable by their owner only.

The system of record (a SQLite file), the analytics store, import reports with
their quarantined rows, and the folder that holds them are created with mode
0600 (files) and 0700 (folders). ``keep_private()`` sets the process's umask
so that whatever the process creates later (a WAL file, an import report) is
private too; the command line and the dashboard call it when they start.
Files that already exist keep the mode their owner gave them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_UMASK = 0o077


def keep_private() -> None:
    """From now on, this process creates files 0600 and folders 0700 (it only ever adds bits to the umask)."""
    old = os.umask(PRIVATE_UMASK)
    os.umask(old | PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as folders only their owner may open."""
    with private_creation():
        path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def private_creation() -> Iterator[None]:
    """Whatever is created inside the block is private (for the first open of a database file)."""
    old = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(old)
