"""Sign-in, sign-out and kiosk screens: who is looking, before any page runs.

``gate()`` (called by app.py) finds the person behind this browser session:

1. ``?kiosk=<token>``: a wall screen, read-only, bound to the token's region;
2. this session's signed-in person, re-checked on every run (idle expiry, a
   disabled account, a sign-out elsewhere end it);
3. the signed session cookie, after a reload or a deep link in the same browser;
4. the organisation's single sign-on (``st.login``), when configured, with the
   role and region taken from the identity provider's claims.

Nobody: app.py shows the sign-in form instead of the page (the URL is kept, so
a deep link opens after signing in). The person's ``access.Grant`` goes into
the session, where ``data_access.cached`` checks every query against it.

Every run checks the person again, in one place (``data_access.cached.verify``):
a page run here, a fragment's own run (the big screen's refresh) with
``require()``, every query through ``cached.current_grant`` and every download
through ``cached.deferred``. Refused, the fragment reruns the whole app, which
then shows the sign-in form (or, for a wall, that its token is no longer valid)
and no data.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import time

import streamlit as st

from data_access import auth, cached
from data_access.access import Grant
from ui import session_cookie
from ui.text import plain

PRINCIPAL_KEY = cached.PRINCIPAL_KEY
TOKEN_KEY = cached.SESSION_TOKEN_KEY
COOKIE = session_cookie.COOKIE
_CLEAR_COOKIE = "clear_session_cookie"
_COOKIE_TICKET = "session_cookie_ticket"  # (signed value, ticket) posted by this session's page
_ENDED = "signed_in_state_ended"  # the sign-in form says why it is back
_RETRY_AT = "verify_retry_shown_at"
_log = logging.getLogger("appeals")


def grant_of(principal: auth.Principal) -> Grant:
    return cached.grant_of(principal)


def _admit(principal: auth.Principal, credential: cached.Credential | None = None) -> auth.Principal:
    return cached.admit(principal, credential)


def _forget() -> None:
    cached.forget()


def _session(token: str | None) -> cached.Credential | None:
    return cached.Credential("session", token) if token else None


def kiosk_token() -> str | None:
    """The kiosk token of the URL (``?kiosk=<token>``); ``kiosk=1`` only hides menus and is no token."""
    value = (st.query_params.get("kiosk") or "").strip()
    return value if value and value.lower() not in ("0", "1", "true", "false") else None


def gate() -> auth.Principal | None:
    """The person looking at this session, or None (then the caller shows ``sign_in_form``).

    Raises ``cached.Unverifiable`` when the system of record cannot be read (app.py then says so and
    shows no data), except for a wall whose token this process verified recently (``cached.verify``).
    """
    cfg = cached.settings()
    token = kiosk_token()
    if token is not None:
        credential = cached.Credential("kiosk", token[:200])
        principal = cached.verify(credential)
        if principal is None:
            _forget()
            return None
        return _admit(principal, credential)
    current = st.session_state.get(PRINCIPAL_KEY)
    if current is not None and not current.is_kiosk:
        credential = _session(st.session_state.get(TOKEN_KEY))
        if credential is None:  # signed in through single sign-on: nothing to resume
            return _admit(current)
        principal = cached.verify(credential)
        if principal is not None:
            return _admit(principal, credential)
        _ended()
        return None
    _forget()
    signed = _cookie()
    if signed:
        credential = _session(auth.unsign_cookie(signed, auth.cookie_secret(cfg)))
        principal = cached.verify(credential) if credential is not None else None
        if principal is not None:
            return _admit(principal, credential)
    return _single_sign_on()


def _ended() -> None:
    """The signed-in state of this session was refused: forget it, clear the cookie, say why."""
    _forget()
    st.session_state[_CLEAR_COOKIE] = True
    st.session_state[_ENDED] = True


def require() -> auth.Principal:
    """The first step of a run that does not pass through app.py's gate: a fragment's own run (the big
    screen's refresh every ``APPEALS_REFRESH_SECONDS``).

    Checks the person again (``cached.recheck``, every time, without counting as activity, so an
    unattended screen still reaches its idle expiry). Refused (a revoked kiosk token, a disabled
    account, an expired or idle session, a sign-out elsewhere) or not verifiable, it stops this run and
    reruns the whole app: the page then shows the sign-in form or the refusal, and nothing of what it
    showed.
    """
    try:
        principal = cached.recheck(touch=False, max_age=0)
    except cached.Unverifiable as exc:  # the whole app's run says so (app.py), with no data
        _log.warning("cannot check who is looking: the system of record cannot be read (%s)", exc)
        st.rerun(scope="app")
    except Exception:  # noqa: BLE001 - the same, and the cause goes to the log
        _log.exception("re-check of the signed-in person failed")
        st.rerun(scope="app")
    if principal is None:
        _ended()
        st.rerun(scope="app")
    return principal


def live(render):
    """A fragment's body that runs on its own (``st.fragment(run_every=…)``): ``require()`` first, and
    a refusal met later in the run (``cached.NotSignedIn``, from the query layer's own check) reruns
    the whole app as well. Put it inside ``widgets.guard``, which would show the refusal in place."""

    @functools.wraps(render)
    def wrapper(*args, **kwargs):
        require()
        try:
            return render(*args, **kwargs)
        except cached.NotSignedIn:
            if st.session_state.get(PRINCIPAL_KEY) is None:
                _ended()
            st.rerun(scope="app")

    return wrapper


def cannot_verify(exc: BaseException) -> None:
    """What app.py shows when it cannot check who is looking: a message, no data; and it tries again
    every ``APPEALS_REFRESH_SECONDS``, so a wall screen comes back by itself after an outage."""
    cause = str(exc) if isinstance(exc, cached.Unverifiable) else type(exc).__name__  # the driver's error, by name
    st.error(f"无法核验登录状态：诉求数据库无法访问（{plain(cause)}）。请稍后重试或联系管理员。本页面会自动重试。")
    try:
        every = max(1, int(cached.settings().refresh_seconds))
    except Exception:  # noqa: BLE001 - the settings themselves: try again a minute later
        every = 60
    st.session_state[_RETRY_AT] = time.monotonic()

    @st.fragment(run_every=every)
    def retry() -> None:
        if time.monotonic() - st.session_state.get(_RETRY_AT, 0.0) >= every / 2:
            st.rerun(scope="app")

    retry()
    st.stop()


def _cookie() -> str | None:
    try:
        return st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no browser behind the session (tests)
        return None


def _single_sign_on() -> auth.Principal | None:
    """A person signed in through ``st.login``, mapped to a role and region by their claims."""
    try:
        if not st.user.is_logged_in:
            return None
    except Exception:  # noqa: BLE001 - single sign-on is not configured
        return None
    cfg = cached.settings()
    claims = dict(st.user.to_dict()) if hasattr(st.user, "to_dict") else {}
    role = str(claims.get(cfg.oidc_role_claim, "")).strip()
    region = claims.get(cfg.oidc_region_claim)
    name = str(claims.get("email") or claims.get("name") or claims.get("sub") or "")[:64]
    if role not in auth.ROLES or not name:
        st.error("单点登录的身份没有可用的角色或姓名，请联系管理员配置身份映射。")
        return None
    display_name = str(claims.get("name") or "").strip()[:32] or None
    principal = auth.Principal(name=name, role=role, region_code=str(region) if region else None,
                               display_name=display_name if display_name != name else None)
    auth.audit(cached.sor_engine(), actor=name, action="signin", region_code=principal.region_code,
               detail={"via": "oidc"})
    return _admit(principal)


KIOSK_INVALID = "大屏令牌无效或已被吊销，请联系管理员重新生成。"
KIOSK_REFUSAL = ("大屏令牌只能打开指挥大屏：此页面含工单明细或统计明细，不在大屏上显示。"
                 "如需查看，请在办公电脑上使用本单位账号登录。")


def kiosk_refusal() -> None:
    """What a kiosk gets on any page but the big screen: a refusal, and no data."""
    from ui import theme

    theme.apply(True)
    st.error(KIOSK_REFUSAL)


def set_cookie_script() -> None:
    """Give this browser the session cookie (signed), so that a reload and a deep link find the session.

    Served by ``serve.py``, the server sets it with ``HttpOnly`` (``ui.session_cookie``): the page posts
    a one-time ticket, once per sign-in, and page scripts never see the value. Served by ``streamlit run
    app.py``, the page writes it itself, readable by scripts in the page.
    """
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return
    cfg = cached.settings()
    value = auth.sign_cookie(token, auth.cookie_secret(cfg))
    if not session_cookie.served():
        st.html(_cookie_js(value, int(cfg.session_max_seconds)), unsafe_allow_javascript=True)
        return
    if _cookie() == value:
        return  # the browser sent it when this session connected
    sent = st.session_state.get(_COOKIE_TICKET)
    if sent is None or sent[0] != value or session_cookie.state(sent[1]) == "gone":
        sent = (value, session_cookie.issue(value, int(cfg.session_max_seconds)))
        st.session_state[_COOKIE_TICKET] = sent
    if session_cookie.state(sent[1]) == "pending":  # drawn again until the page has posted it
        st.html(session_cookie.script(sent[1]), unsafe_allow_javascript=True)


def _cookie_js(value: str, max_age: int) -> str:
    """The page's script that sets (or, with an empty value, clears) the cookie: through the server's
    route when ``serve.py`` serves the app, else written by the page."""
    if session_cookie.served():
        if value:
            return session_cookie.script(session_cookie.issue(value, max_age))
        return session_cookie.script(None)
    attrs = f"; path=/; max-age={max_age}; SameSite=Strict"
    return ("<script>document.cookie = " + json.dumps(f"{COOKIE}={value}{attrs}")
            + " + (location.protocol === 'https:' ? '; Secure' : '');</script>")


def sign_in_form() -> None:
    """The sign-in page: name and password (and single sign-on when configured)."""
    from ui import theme

    theme.apply(False)
    if st.session_state.pop(_CLEAR_COOKIE, False):
        st.html(_cookie_js("", 0), unsafe_allow_javascript=True)
    ended = st.session_state.pop(_ENDED, False)
    if kiosk_token() is not None:
        st.error(KIOSK_INVALID)
        return
    _, middle, _ = st.columns([1, 1.2, 1])
    with middle:
        if ended:
            st.warning(cached.SIGNED_OUT)
        st.html('<p class="screen-title" style="text-align:center">诉求指挥中心</p>'
                '<p style="text-align:center;color:#8aa3c7">请使用本单位账号登录</p>')
        with st.form("sign_in"):
            name = st.text_input("用户名", max_chars=64, key="sign_in_name", placeholder="用户名")
            password = st.text_input("密码", type="password", max_chars=256, key="sign_in_password",
                                     placeholder="密码")
            sent = st.form_submit_button("登录", type="primary", width="stretch")
        if _sso_configured():
            st.button("使用单位统一身份认证登录", on_click=st.login, width="stretch")
    if not sent:
        return
    cfg = cached.settings()
    engine = cached.sor_engine()
    try:
        principal = auth.authenticate(engine, name.strip(), password, ip=_ip(), settings=cfg)
    except auth.AuthError as exc:
        with middle:
            st.error(str(exc))
        return
    token = auth.start_session(engine, principal, settings=cfg)
    _admit(principal, _session(token))
    st.rerun()


def _sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file
        return False


def _ip() -> str | None:
    """The browser's address: from the proxy's header when one is configured (APPEALS_CLIENT_IP_HEADER)."""
    try:
        header = cached.settings().client_ip_header
        ip = (st.context.headers.get(header) or "").split(",")[0].strip() if header else st.context.ip_address
    except Exception:  # noqa: BLE001
        return None
    return ip if isinstance(ip, str) and ip else None


def sign_out() -> None:
    """End the session (server side and cookie) and show the sign-in form."""
    token = st.session_state.get(TOKEN_KEY)
    principal = st.session_state.get(PRINCIPAL_KEY)
    if token:
        auth.end_session(cached.sor_engine(), token)
    elif principal is not None:
        auth.audit(cached.sor_engine(), actor=principal.name, action="signout", region_code=principal.region_code)
    _forget()
    st.session_state[_CLEAR_COOKIE] = True
    if _sso_configured():
        try:
            if st.user.is_logged_in:
                st.logout()
        except Exception:  # noqa: BLE001
            _log.warning("single sign-on logout failed", exc_info=True)


def account_box(principal: auth.Principal) -> None:
    """Who is signed in, and the sign-out button (in the sidebar)."""
    with st.sidebar:
        role = auth.ROLE_LABELS.get(principal.role, principal.role)
        where = f" · {html.escape(principal.region_code)}" if principal.region_code else ""
        st.html(f'<div class="account">{html.escape(principal.name)}<small> · {role}{where}</small></div>')
        st.button("退出登录", on_click=sign_out, key="sign_out")
