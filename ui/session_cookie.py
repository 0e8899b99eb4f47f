"""The session cookie, set by the server with ``HttpOnly``: page scripts never read it.

A Streamlit script cannot set a response header, and a cookie written by the page's JavaScript can be
read by any script in the page. So the server sets it, through a route of its own that ``serve.py``
mounts beside Streamlit's (``st.App``): after sign-in, ``ui.auth.set_cookie_script`` keeps the signed
cookie value here under a one-time ticket, and the page posts the ticket to ``/api/session``. The route
answers with ``Set-Cookie: appeals_session=…; HttpOnly; SameSite=Strict; Path=/`` (``Secure`` when the
page is on HTTPS). ``DELETE /api/session`` clears the cookie (sign-out).

A ticket is 32 random bytes, lives ``TICKET_SECONDS``, works once, and only from a page of this server
(its ``Origin`` must name the host asked). Tickets live in this process: the page that got one posts it
to the same server (several replicas need sticky sessions, as Streamlit's WebSockets already do).

Served by ``streamlit run app.py`` (no route), the cookie falls back to being written by the page
(``served()`` is False), without ``HttpOnly``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

COOKIE = "appeals_session"
PATH = "api/session"
TICKET_SECONDS = 60
_KEEP_SECONDS = 600  # a used or expired ticket is remembered this long (the page may post it again)
_MAX_TICKETS = 10_000

_lock = threading.Lock()
_served = False


@dataclass
class _Ticket:
    value: str
    max_age: int
    expires: float  # time.monotonic()
    used: bool = False


_tickets: dict[str, _Ticket] = {}


def served() -> bool:
    """True when this process serves the route (started with ``streamlit run serve.py``)."""
    return _served


def route_path() -> str:
    """``/api/session``, under ``server.baseUrlPath`` when one is set."""
    import streamlit as st

    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/{PATH}" if base else f"/{PATH}"


def issue(value: str, max_age: int) -> str:
    """A one-time ticket for the cookie ``value`` (the signed session token), valid ``TICKET_SECONDS``."""
    ticket = secrets.token_urlsafe(32)
    now = time.monotonic()
    with _lock:
        for key in [k for k, t in _tickets.items() if t.expires + _KEEP_SECONDS < now]:
            del _tickets[key]
        if len(_tickets) >= _MAX_TICKETS:
            del _tickets[min(_tickets, key=lambda k: _tickets[k].expires)]
        _tickets[ticket] = _Ticket(value, int(max_age), now + TICKET_SECONDS)
    return ticket


def state(ticket: str) -> str:
    """``pending`` (not posted yet, still valid), ``used`` (the cookie was set) or ``gone``."""
    with _lock:
        entry = _tickets.get(ticket)
        if entry is None:
            return "gone"
        if entry.used:
            return "used"
        return "pending" if entry.expires > time.monotonic() else "gone"


def take(ticket) -> _Ticket | None:
    """The ticket's cookie, once; None for an unknown, used or expired ticket."""
    if not isinstance(ticket, str) or len(ticket) > 100:
        return None
    with _lock:
        entry = _tickets.get(ticket)
        if entry is None or entry.used or entry.expires <= time.monotonic():
            return None
        entry.used = True
        return entry


def _same_origin(request) -> bool:
    origin, host = request.headers.get("origin"), request.headers.get("host")
    return bool(origin and host) and urlsplit(origin).netloc == host


def cookie_header(value: str, max_age: int, secure: bool) -> str:
    """The ``Set-Cookie`` value: the signed token, for every path, this site only, no script access."""
    return (f"{COOKIE}={value}; Max-Age={int(max_age)}; Path=/; SameSite=Strict; HttpOnly"
            + ("; Secure" if secure else ""))


async def endpoint(request):
    from starlette.responses import Response

    if not _same_origin(request):
        return Response(status_code=403)
    try:
        body = json.loads((await request.body())[:1000] or b"{}")
    except ValueError:
        return Response(status_code=400)
    secure = bool(body.get("secure")) if isinstance(body, dict) else False
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if request.method == "DELETE":
        response.headers.append("Set-Cookie", cookie_header("", 0, secure))
        return response
    entry = take(body.get("ticket") if isinstance(body, dict) else None)
    if entry is None:
        return Response(status_code=403)
    response.headers.append("Set-Cookie", cookie_header(entry.value, entry.max_age, secure))
    return response


def routes() -> list:
    """The route for ``st.App(routes=…)``; from now on this process sets the cookie with ``HttpOnly``."""
    from starlette.routing import Route

    global _served
    _served = True
    return [Route(route_path(), endpoint, methods=["POST", "DELETE"])]


def script(ticket: str | None) -> str:
    """The page's side: post the ticket (the server sets the cookie), or with no ticket clear the cookie."""
    method = "POST" if ticket else "DELETE"
    payload = json.dumps({"ticket": ticket} if ticket else {})
    return (f"<script>fetch({json.dumps(route_path())}, {{method: '{method}', credentials: 'same-origin', "
            "headers: {'Content-Type': 'application/json'}, "
            f"body: JSON.stringify(Object.assign({payload}, {{secure: location.protocol === 'https:'}}))}});</script>")
