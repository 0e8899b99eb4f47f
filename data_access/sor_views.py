"""Views that let the query layer run on the system of record itself.

The query functions read ``appeal_facts``, ``region_paths``, ``regions`` and
``departments``. The analytics store has them as tables; on the system of
record these two views supply the first two, so the same statements run on
SQLite, PostgreSQL and MySQL/MariaDB. The command line uses them (so it never
competes with the dashboard for the analytics file), and so do the
benchmark's naive baseline and the cross-database tests.
"""

from __future__ import annotations

from sqlalchemy import Engine, case, cast, inspect, null, select
from sqlalchemy.schema import DDL

from . import schema
from .analytics import PATH_COLUMNS, region_paths
from .scope import LEVELS

FACTS_VIEW = "appeal_facts"
PATHS_VIEW = "region_paths"


def _paths_select():
    """Each region's ancestors by fixed self-joins (a region has at most len(LEVELS) - 1 above it)."""
    r = schema.regions
    chain = [r.alias("r0")]
    joined = chain[0]
    for depth in range(1, len(LEVELS)):
        up = r.alias(f"r{depth}")
        joined = joined.outerjoin(up, up.c.code == chain[-1].c.parent_code)
        chain.append(up)
    cols = [chain[0].c.code.label("code")]
    for level, name in PATH_COLUMNS.items():
        whens = [(link.c.level == level, link.c.code) for link in chain]
        cols.append(case(*whens, else_=null()).label(name))
    return select(*cols).select_from(joined)


def _facts_select(have: set[str] | None = None):
    """The facts view's query; a nullable column the appeals relation lacks (an older database,
    or a city's view made before the column existed) reads as a typed NULL, as the sync reads it."""
    a, rp = schema.appeals, region_paths
    cols = []
    for c in a.columns:
        if have is not None and c.name not in have and c.nullable:
            cols.append(cast(null(), c.type).label(c.name))
        else:
            cols.append(c.label("region_code") if c.name == "grid_code" else c)
    cols += [rp.c[name] for name in PATH_COLUMNS.values()]
    return select(*cols).select_from(a.outerjoin(rp, rp.c.code == a.c.grid_code))


def _create_view(engine: Engine, name: str, query) -> None:
    body = query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    stmt = DDL("CREATE VIEW %(name)s AS %(body)s" % {"name": engine.dialect.identifier_preparer.quote(name),
                                                      "body": str(body).replace("%", "%%")})
    with engine.begin() as conn:
        conn.execute(stmt)


def ensure_views(engine: Engine) -> None:
    """Create the two views if they are missing or were made for other columns (the schema must exist)."""
    inspector = inspect(engine)
    existing = set(inspector.get_view_names())
    have = {c["name"] for c in inspector.get_columns(schema.appeals.name)}
    wanted = {PATHS_VIEW: _paths_select(), FACTS_VIEW: _facts_select(have)}
    stale = [name for name, query in wanted.items() if name in existing
             and {c["name"] for c in inspector.get_columns(name)} != {c.name for c in query.selected_columns}]
    if stale:
        drop_views(engine)  # the facts view reads the paths view: both go
        existing = set()
    for name, query in wanted.items():
        if name not in existing:
            _create_view(engine, name, query)


def drop_views(engine: Engine) -> None:
    """Drop the two views (before the tables they read are dropped or changed)."""
    existing = set(inspect(engine).get_view_names())
    prep = engine.dialect.identifier_preparer
    with engine.begin() as conn:
        for name in (FACTS_VIEW, PATHS_VIEW):
            if name in existing:
                conn.execute(DDL("DROP VIEW %s" % prep.quote(name)))
