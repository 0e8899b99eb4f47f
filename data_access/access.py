"""Who may see what: a signed-in person's region bounds every scope they query.

A ``Grant`` is the part of a signed-in principal that access rests on: its
region (None: the whole territory) and what it may do. ``bound_scope`` turns
a requested region (a URL's ``region=``, a click on the map) into a ``Scope``
inside the grant, or raises ``NoAccess``; ``check_scope`` checks a scope a
page built itself; ``check_appeal`` checks that one appeal lies inside the
grant. ``data_access.cached`` runs these checks on every query it wraps, so no
page, URL parameter or crafted value can widen what a person sees.

Codes are compared through the analytics store's ``region_paths`` (each
region's code at every level above it), never by string prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .analytics import PATH_COLUMNS, facts, region_paths
from .queries import UnknownRegion, resolve_scope
from .runner import run
from .scope import Scope

MAX_CODE_LENGTH = 32  # regions.code is String(32)


class NoAccess(PermissionError):
    """The request reaches outside the person's region. ``str()`` is a message for the screen."""


@dataclass(frozen=True)
class Grant:
    """What access rests on: the region (None: everything) and the rights.

    ``personal_data``: may see appellants' names, phone numbers and addresses
    (on a case's detail only); ``export``: may download lists; ``case_detail``:
    may open one appeal; ``supervise_levels``: the 督办 levels the person may
    issue (street, district, city: their own level and below; none: may not
    supervise or record answers); ``screen_only``: a wall screen (kiosk), which
    may read the big screen's figures and nothing else (no list of appeals
    behind a figure, no warning list, no drill-down page).
    """

    region_code: str | None
    personal_data: bool = False
    export: bool = True
    case_detail: bool = True
    supervise_levels: tuple[str, ...] = ()
    screen_only: bool = False

    @property
    def is_whole(self) -> bool:
        return self.region_code is None

    @property
    def supervise(self) -> bool:
        """May write supervisions (and record their answers)."""
        return bool(self.supervise_levels)


NOBODY = Grant(region_code="\x00nobody", personal_data=False, export=False, case_detail=False)


def _path(conn, code: str) -> dict[str, str | None] | None:
    """The codes above and at ``code`` by level, or None when there is no such region."""
    df = run(conn, select(region_paths).where(region_paths.c.code == code))
    if df.empty:
        return None
    row = df.iloc[0]
    return {level: (row[col] if isinstance(row[col], str) else None) for level, col in PATH_COLUMNS.items()}


def contains(conn, outer: str, inner: str) -> bool:
    """Whether region ``inner`` is ``outer`` or lies below it."""
    if outer == inner:
        return True
    path = _path(conn, inner)
    return path is not None and outer in path.values()


def _clean(code: str | None) -> str | None:
    if code is None:
        return None
    code = str(code).strip()
    if not code:
        return None
    if len(code) > MAX_CODE_LENGTH:
        raise NoAccess("区域代码过长，无法识别。")
    return code


def bound_scope(conn, grant: Grant, requested: str | None) -> Scope:
    """The scope a person asked for, bounded by their grant.

    Nothing asked: the grant's own region. A region inside the grant: that
    region. Anything else (a parent, a sibling, an unknown or malformed code)
    raises ``NoAccess`` for a bounded grant, and ``UnknownRegion`` for an
    unknown code under a whole-territory grant.
    """
    if grant == NOBODY:
        raise NoAccess("请先登录。")
    code = _clean(requested)
    if grant.is_whole:
        return resolve_scope(conn, code)
    if code is None:
        code = grant.region_code
    try:
        scope = resolve_scope(conn, code)
    except UnknownRegion:
        if code == grant.region_code:
            raise
        raise NoAccess(f"无权查看区域 {code[:MAX_CODE_LENGTH]}：只能查看本辖区。") from None
    if not contains(conn, grant.region_code, scope.code):
        raise NoAccess(f"无权查看区域 {code}：只能查看本辖区。")
    return scope


def check_scope(conn, grant: Grant, scope: Scope) -> None:
    """Raise ``NoAccess`` unless ``scope`` lies inside the grant."""
    if grant.is_whole:
        return
    if scope.is_whole or not contains(conn, grant.region_code, scope.code):
        raise NoAccess("无权查看该范围：只能查看本辖区。")


def check_region(conn, grant: Grant, code: str | None) -> None:
    """Raise ``NoAccess`` unless region ``code`` lies inside the grant (None: the whole territory)."""
    if grant.is_whole:
        return
    if code is None or not contains(conn, grant.region_code, str(code)[:MAX_CODE_LENGTH]):
        raise NoAccess("无权查看该区域：只能查看本辖区。")


def check_appeal(conn, grant: Grant, appeal_id: str) -> None:
    """Raise ``NoAccess`` unless the appeal lies inside the grant (an unknown appeal passes: nothing to show)."""
    if not grant.case_detail:
        raise NoAccess("该账号不能查看工单详情。")
    if grant.is_whole:
        return
    columns = [facts.c[p] for p in PATH_COLUMNS.values()]
    df = run(conn, select(*columns).where(facts.c.appeal_id == str(appeal_id)[:64]))
    if df.empty:
        return
    codes = {str(v) for v in df.iloc[0].tolist() if isinstance(v, str)}
    if grant.region_code not in codes:
        raise NoAccess("无权查看该工单：它不在本辖区。")
