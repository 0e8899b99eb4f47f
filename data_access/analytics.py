"""The analytics store: an embedded DuckDB copy of the system of record.

The dashboard process owns it. Its tables are defined here with SQLAlchemy
Core and created through the DuckDB dialect. ``appeal_facts`` is the
``appeals`` table plus the appeal's region path (the code of its region at
every level), so that a scope filter is one equality on one column.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)
from sqlalchemy import insert, select
from sqlalchemy.schema import CreateTable, DropTable

from . import schema
from .files import private_creation, private_dir
from .runner import execute, run
from .scope import LEVELS

metadata = MetaData()

# Bump when a table below changes: an older store is then emptied and copied again.
SCHEMA_VERSION = "6"

PATH_COLUMNS = {level: f"{level}_code" for level in LEVELS}


def _copy_of(table: Table, *, rename: dict | None = None, extra: tuple = ()) -> list[Column]:
    rename = rename or {}
    cols = []
    for c in table.columns:
        kind = c.type
        if isinstance(kind, Boolean):
            kind = Boolean()
        elif isinstance(kind, DateTime):
            kind = DateTime()
        elif isinstance(kind, Float):
            kind = Double()  # DuckDB's FLOAT is 32-bit: too coarse for coordinates and rates
        elif isinstance(kind, Integer):
            kind = BigInteger()
        elif isinstance(kind, LargeBinary):
            kind = LargeBinary()
        else:
            kind = String()
        cols.append(Column(rename.get(c.name, c.name), kind, primary_key=c.primary_key, autoincrement=False))
    return cols + list(extra)


# The system of record's ``grid_code`` (finest region) is ``region_code`` here;
# ``grid_code`` here is the path column for the grid level.
facts = Table(
    "appeal_facts",
    metadata,
    *_copy_of(
        schema.appeals,
        rename={"grid_code": "region_code"},
        extra=tuple(Column(name, String()) for name in PATH_COLUMNS.values()),
    ),
)

regions = Table("regions", metadata, *_copy_of(schema.regions))
departments = Table("departments", metadata, *_copy_of(schema.departments))
grid_workers = Table("grid_workers", metadata, *_copy_of(schema.grid_workers))
supervisions = Table("supervisions", metadata, *_copy_of(schema.supervisions))

# the ancestors of every region, itself included, one column per level
region_paths = Table(
    "region_paths",
    metadata,
    Column("code", String(), primary_key=True),
    *(Column(name, String()) for name in PATH_COLUMNS.values()),
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("key", String(), primary_key=True),
    Column("value", String()),
)


# DuckDB may use this much memory before it spills to disk (its default is 80 % of RAM)
MEMORY_LIMIT = "1GB"


def open_store(path: Path | str | None) -> duckdb.DuckDBPyConnection:
    """Open (or create) the analytics store. ``None`` gives an in-memory one."""
    config = {"memory_limit": MEMORY_LIMIT}
    if path is None:
        con = duckdb.connect(":memory:", config=config)
    else:
        private_dir(Path(path).parent)
        with private_creation():  # a new store is readable by its owner only, like the record it copies
            con = duckdb.connect(str(path), config=config)
    create_tables(con)
    return con


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables; a store made by another schema version is emptied first."""
    stamp = select(sync_state.c.value).where(sync_state.c.key == "schema_version")
    try:
        found = run(con, stamp, own_cursor=False)["value"].tolist()
    except duckdb.CatalogException:
        found = None  # a new store
    if found is not None and found != [SCHEMA_VERSION]:
        drop_tables(con)
    for table in metadata.sorted_tables:
        execute(con, CreateTable(table, if_not_exists=True))
    execute(con, insert(sync_state).values(key="schema_version", value=SCHEMA_VERSION).prefix_with("OR REPLACE"))


def drop_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in reversed(metadata.sorted_tables):
        execute(con, DropTable(table, if_exists=True))
