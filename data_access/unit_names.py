"""Names of the units that warning and supervision tables group by: departments and streets.

Two streets, or two street offices, of different districts may share a name
(湖南街道 in two districts); ``parent`` tells them apart: a street's district,
a department's district (or, for a grid or community office, its street).
"""

from __future__ import annotations

from sqlalchemy import case, func

from .analytics import departments, regions


def with_names(source, code, by: str):
    """``source`` joined to the names of ``code``; returns (from clause, name column, parent column)."""
    if by == "department":
        dept, own, up = departments.alias("unit"), regions.alias("unit_region"), regions.alias("unit_parent")
        joined = (source.outerjoin(dept, dept.c.code == code)
                  .outerjoin(own, own.c.code == dept.c.region_code)
                  .outerjoin(up, up.c.code == own.c.parent_code))
        parent = case((dept.c.level.in_(("city", "district")), own.c.name), else_=func.coalesce(up.c.name, own.c.name))
        return joined, func.coalesce(dept.c.name, code).label("name"), parent.label("parent")
    if by == "street":
        street, up = regions.alias("unit"), regions.alias("unit_parent")
        joined = source.outerjoin(street, street.c.code == code).outerjoin(up, up.c.code == street.c.parent_code)
        return joined, func.coalesce(street.c.name, code).label("name"), up.c.name.label("parent")
    raise ValueError("by must be 'department' or 'street'")
