"""A small seeded demo city for page tests: the real territory, fewer appeals."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from data_access.clock import local_now
from tests.conftest import CITY_TZ
from data_access.seed import seed_demo
from data_access.store import make_engine


@lru_cache(maxsize=1)
def _territory():
    from geo.territory import build_territory

    return build_territory("city")


def build(folder: Path, *, appeals: int = 20_000, months: int = 3, seed: int = 3,
          end: dt.datetime | None = None) -> dict[str, str]:
    """Seed a demo database in ``folder``; return the environment that points the dashboard at it."""
    url = f"sqlite:///{folder / 'appeals.db'}"
    engine = make_engine(url)
    seed_demo(engine, territory=_territory(), appeals=appeals, months=months, seed=seed,
              end=end or local_now(CITY_TZ).replace(second=0, microsecond=0))
    engine.dispose()
    return {"APPEALS_DB_URL": url, "APPEALS_ANALYTICS_PATH": str(folder / "analytics.duckdb")}
