"""Command line for accounts and wall-screen tokens (``python -m data_access users|kiosk-token …``).

  users add NAME --role ROLE [--region CODE] [--display-name TEXT] [--unit TEXT] --password-stdin
  users profile NAME [--display-name TEXT] [--unit TEXT]   (an empty TEXT clears it)
  users disable NAME
  users reset-password NAME --password-stdin
  users list [--json]
  kiosk-token create --region CODE [--label TEXT]   (the token alone on the last line of stdout)
  kiosk-token revoke TOKEN                          (the token, or its id)

Passwords are read from standard input (the first line, without its newline),
never from the command line, where other users and the shell history would
see them; on a terminal they are asked for without echo. Refusals print one
line to stderr and exit with status 2 (``data_access.cli.main``).
"""

from __future__ import annotations

import getpass
import json
import sys

from .clock import local_now

COMMANDS = ("users", "kiosk-token")


def add_parsers(sub, db_arg) -> None:
    """Add ``users`` and ``kiosk-token`` to the subparsers of ``python -m data_access``."""
    from .auth import ROLES

    u = sub.add_parser("users", help="sign-in accounts: add | profile | disable | reset-password | list")
    usub = u.add_subparsers(dest="users_command", required=True)
    ua = usub.add_parser("add", help="create an account")
    ua.add_argument("name", metavar="NAME")
    ua.add_argument("--role", required=True, choices=ROLES)
    ua.add_argument("--region", metavar="CODE",
                    help="the account's region (required for district and street; city: the root or none)")
    ua.add_argument("--password-stdin", action="store_true",
                    help="read the password from standard input (the first line)")
    profile_args(ua)
    db_arg(ua)
    up = usub.add_parser("profile", help="set the person's display name and unit (shown as 督办人)")
    up.add_argument("name", metavar="NAME")
    profile_args(up)
    db_arg(up)
    ud = usub.add_parser("disable", help="disable an account and end its sessions")
    ud.add_argument("name", metavar="NAME")
    db_arg(ud)
    ur = usub.add_parser("reset-password", help="set a new password, lift a lock, end the account's sessions")
    ur.add_argument("name", metavar="NAME")
    ur.add_argument("--password-stdin", action="store_true",
                    help="read the password from standard input (the first line)")
    db_arg(ur)
    ul = usub.add_parser("list", help="the accounts")
    ul.add_argument("--json", action="store_true", help="print one JSON array")
    db_arg(ul)

    k = sub.add_parser("kiosk-token", help="read-only wall-screen tokens: create | revoke")
    ksub = k.add_subparsers(dest="kiosk_command", required=True)
    kc = ksub.add_parser("create", help="a new token bound to a region (printed alone on the last line)")
    kc.add_argument("--region", required=True, metavar="CODE", help="the region the screen shows (any level)")
    kc.add_argument("--label", metavar="TEXT", help="where the screen hangs, e.g. 东区服务大厅")
    db_arg(kc)
    kr = ksub.add_parser("revoke", help="revoke a token (the token itself or its id)")
    kr.add_argument("token", metavar="TOKEN")
    db_arg(kr)


def profile_args(parser) -> None:
    parser.add_argument("--display-name", metavar="TEXT",
                        help="the person's name, e.g. 张伟 (with --unit, the default 督办人 is \"unit · name\")")
    parser.add_argument("--unit", metavar="TEXT", help="the person's unit, e.g. 铁东区综合指挥中心督办科")


def _error(message: str):
    from .cli import CliError

    return CliError(message)


def _engine(url: str):
    from .cli import _engine as open_engine
    from .store import create_schema

    engine = open_engine(url)
    create_schema(engine)
    return engine


def _read_password(args) -> str:
    if not args.password_stdin:
        raise _error("give --password-stdin and type the password on standard input "
                     "(never on the command line)")
    if sys.stdin is None:
        raise _error("no standard input to read the password from")
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise _error("the two passwords differ")
    else:
        password = sys.stdin.readline()
        if password.endswith("\n"):
            password = password[:-1]
        if password.endswith("\r"):
            password = password[:-1]
    if not password:
        raise _error("no password on standard input (give it as the first line)")
    return password


def users(args, url, settings) -> int:
    from . import auth

    command = args.users_command
    try:
        if command == "add":
            password = _read_password(args)
            engine = _engine(url)
            auth.add_user(engine, args.name, role=args.role, region_code=args.region, password=password,
                          display_name=args.display_name, unit=args.unit, now=local_now(settings.timezone))
            where = f"region {args.region.strip()}" if args.region and args.region.strip() else "whole territory"
            signs = auth.supervisor_label(args.name.strip(), args.display_name, args.unit)
            print(f"user {args.name.strip()} added: {args.role} ({auth.ROLE_LABELS[args.role]}), {where}; "
                  f"signs as {signs}")
        elif command == "profile":
            changes = {k: v for k, v in (("display_name", args.display_name), ("unit", args.unit)) if v is not None}
            if not changes:
                raise _error("give --display-name TEXT and/or --unit TEXT (an empty TEXT clears it)")
            profile = auth.set_profile(_engine(url), args.name, **changes, now=local_now(settings.timezone))
            print(f"user {args.name.strip()} now signs as "
                  f"{auth.supervisor_label(args.name.strip(), profile['display_name'], profile['unit'])}")
        elif command == "disable":
            auth.disable_user(_engine(url), args.name, now=local_now(settings.timezone))
            print(f"user {args.name.strip()} disabled; their sessions are ended")
        elif command == "reset-password":
            password = _read_password(args)
            auth.reset_password(_engine(url), args.name, password, now=local_now(settings.timezone))
            print(f"password of {args.name.strip()} reset; their sessions are ended and any lock lifted")
        else:
            _list_users(auth.list_users(_engine(url)), args.json, local_now(settings.timezone))
    except auth.AuthError as exc:
        raise _error(str(exc)) from None
    return 0


def _list_users(rows: list[dict], as_json: bool, now) -> None:
    from .auth import supervisor_label

    def stamp(t):
        return t.isoformat(sep=" ", timespec="seconds") if t is not None else None

    if as_json:
        print(json.dumps([{**r, "created_at": stamp(r["created_at"]), "locked_until": stamp(r["locked_until"])}
                          for r in rows], ensure_ascii=False))
        return
    if not rows:
        print("no accounts; add one with: python -m data_access users add NAME --role ROLE "
              "[--region CODE] --password-stdin")
        return
    print(f"{'name':<20} {'role':<9} {'region':<14} {'disabled':<9} {'locked until':<20} signs as")
    for r in rows:
        locked = stamp(r["locked_until"]) if r["locked_until"] is not None and r["locked_until"] > now else "—"
        signs = supervisor_label(r["name"], r["display_name"], r["unit"])
        print(f"{r['name']:<20} {r['role']:<9} {r['region_code'] or '(all)':<14} "
              f"{'yes' if r['disabled'] else 'no':<9} {locked:<20} {signs}")


def kiosk_token(args, url, settings) -> int:
    from . import auth

    try:
        if args.kiosk_command == "create":
            token = auth.create_kiosk_token(_engine(url), args.region, label=args.label,
                                            now=local_now(settings.timezone))
            print(f"kiosk token for region {args.region.strip()} created; it is shown once, keep it secret.\n"
                  f"open the wall screen at /?kiosk=<token>; revoke it with: "
                  f"python -m data_access kiosk-token revoke <token>", file=sys.stderr, flush=True)
            print(token, flush=True)
        else:
            auth.revoke_kiosk_token(_engine(url), args.token, now=local_now(settings.timezone))
            print("kiosk token revoked: the screen stops at its next refresh")
    except auth.AuthError as exc:
        raise _error(str(exc)) from None
    return 0
