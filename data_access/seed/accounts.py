"""Sign-in accounts of the demo city: one per role, with a password printed by the seeder.

Demo only: a real deployment creates personal accounts with
``python -m data_access users add`` (see docs/security.md).
"""

from __future__ import annotations

from sqlalchemy import select

from .. import auth, schema

DEMO_PASSWORD = "anshan-demo-2026"
# name, role, region (None: the whole territory); regions of the city-scale demo
DEMO_ACCOUNTS = (
    ("demo", "city", None),
    ("tiedong", "district", "210302"),
    ("lianhua", "street", "210302001"),  # 莲花街道 of 铁东区
    ("admin", "admin", None),
)


def ensure_demo_accounts(engine) -> list[tuple[str, str, str | None]]:
    """Create the demo accounts that are missing and whose region exists; returns those created."""
    with engine.connect() as conn:
        existing = {r for (r,) in conn.execute(select(schema.users.c.name))}
        regions = {r for (r,) in conn.execute(select(schema.regions.c.code))}
    created = []
    for name, role, region in DEMO_ACCOUNTS:
        if name in existing or (region is not None and region not in regions):
            continue
        auth.add_user(engine, name, role=role, region_code=region, password=DEMO_PASSWORD, actor="seed")
        created.append((name, role, region))
    return created
