"""Sign-in accounts of the demo city: one per role, with a password printed by the seeder.

Demo only: a real deployment creates personal accounts with
``python -m data_access users add`` (see docs/security.md).
"""

from __future__ import annotations

from sqlalchemy import select

from .. import auth, schema

DEMO_PASSWORD = "anshan-demo-2026"
SEED_ACTOR = "seed"  # the actor of the seeder's account changes in the audit log
# name, role, region (None: the whole territory), display name, unit; regions of the city-scale demo, units as
# the demo's supervisions name them (seed/supervision.py)
DEMO_ACCOUNTS = (
    ("demo", "city", None, "王强", "鞍山市8890督查室"),
    ("tiedong", "district", "210302", "张伟", "铁东区综合指挥中心督办科"),
    ("lianhua", "street", "210302001", "李娜", "莲花街道督办组"),  # 莲花街道 of 铁东区
    ("admin", "admin", None, "刘洋", "鞍山市8890便民服务中心"),
)


def ensure_demo_accounts(engine) -> list[tuple[str, str, str | None]]:
    """Create the demo accounts that are missing and whose region exists; returns those created
    (name, role, region). A demo account the seeder created in an earlier version, with neither a
    display name nor a unit, gets its own; an account someone else created is left alone."""
    users, audit = schema.users, schema.audit_log
    with engine.connect() as conn:
        existing = {r.name: r for r in conn.execute(select(users.c.name, users.c.display_name, users.c.unit))}
        regions = {r for (r,) in conn.execute(select(schema.regions.c.code))}
        seeded = {r for (r,) in conn.execute(select(audit.c.target).where(audit.c.action == "user_add",
                                                                           audit.c.actor == SEED_ACTOR))}
    created = []
    for name, role, region, display_name, unit in DEMO_ACCOUNTS:
        if name in existing:
            if name in seeded and existing[name].display_name is None and existing[name].unit is None:
                auth.set_profile(engine, name, display_name=display_name, unit=unit, actor=SEED_ACTOR)
            continue
        if region is not None and region not in regions:
            continue
        auth.add_user(engine, name, role=role, region_code=region, password=DEMO_PASSWORD,
                      display_name=display_name, unit=unit, actor=SEED_ACTOR)
        created.append((name, role, region))
    return created
