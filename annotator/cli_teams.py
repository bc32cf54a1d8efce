"""Command line for teams: ``users add|list|deactivate|reactivate|reset-password|set-role`` and ``audit verify``.

The person at the command line acts as :data:`annotator.auth.CONSOLE`: whoever can write the database file
is trusted like an admin, and the audit log records their changes with ``"via": "console"``. Passwords are
read from standard input (a prompt without echo on a terminal), never from an argument, which would end up
in the shell history and in ``ps``.
"""

from __future__ import annotations

import argparse
import sys

from annotator.cli import add_command, open_store
from annotator.errors import InvalidAccount
from annotator.models import ROLES


def read_password(stdin=None, *, confirm: bool = True) -> str:
    """The new password: prompted twice without echo when stdin is a terminal, else the first line of stdin."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        import getpass

        first = getpass.getpass("Password: ")
        if confirm and getpass.getpass("Repeat the password: ") != first:
            raise InvalidAccount("The two passwords differ.")
        return first
    line = stdin.readline()
    return line[:-1] if line.endswith("\n") else line


def cmd_users_add(args) -> int:
    """Create an account with the password read from standard input."""
    from annotator import auth

    store = open_store(args)
    user = auth.create_user(store, auth.CONSOLE, args.username, args.role, read_password(), args.display_name or "")
    print(f"Created {user.role} {user.username!r} (id {user.id}).")
    return 0


def cmd_users_list(args) -> int:
    """Print every account: id, user name, role, whether active, whether a password is set, display name."""
    from annotator import auth

    store = open_store(args)
    print(f"{'id':>4}  {'username':<20} {'role':<10} {'active':<7} {'password':<9} display name")
    for u in auth.list_users(store, auth.CONSOLE):
        has_password = "set" if store.password_hash(u.id) else "none"
        print(f"{u.id:>4}  {u.username:<20} {u.role:<10} {'yes' if u.active else 'no':<7} {has_password:<9} {u.display_name}")
    return 0


def cmd_users_deactivate(args) -> int:
    """Deactivate an account; its sessions end."""
    from annotator import auth

    store = open_store(args)
    user = auth.deactivate(store, auth.CONSOLE, auth.user_by_username(store, auth.CONSOLE, args.username).id)
    print(f"Deactivated {user.username!r}: their sessions have ended.")
    return 0


def cmd_users_reactivate(args) -> int:
    """Let a deactivated account log in again."""
    from annotator import auth

    store = open_store(args)
    user = auth.reactivate(store, auth.CONSOLE, auth.user_by_username(store, auth.CONSOLE, args.username).id)
    print(f"Reactivated {user.username!r}.")
    return 0


def cmd_users_reset_password(args) -> int:
    """Set a new password read from standard input; the account's open sessions end."""
    from annotator import auth

    store = open_store(args)
    user = auth.user_by_username(store, auth.CONSOLE, args.username)
    auth.set_password(store, auth.CONSOLE, user.id, read_password())
    print(f"New password set for {user.username!r}; their open sessions have ended.")
    return 0


def cmd_users_set_role(args) -> int:
    """Change an account's role."""
    from annotator import auth

    store = open_store(args)
    user = auth.set_role(store, auth.CONSOLE, auth.user_by_username(store, auth.CONSOLE, args.username).id, args.role)
    print(f"{user.username!r} is now {user.role}.")
    return 0


def cmd_audit_verify(args) -> int:
    """Exit 0 and print the head hash on an intact chain; exit 1 naming the first broken event otherwise, or
    when ``--expect-head`` names a hash that is not in the chain."""
    from annotator import audit_log

    store = open_store(args)
    report = audit_log.verify_database(store, expect_head=args.expect_head)
    if report.ok:
        keyed = f", keyed from event {report.keyed_from}" if report.keyed_from else ", not keyed"
        print(f"ok: {report.count} events, chain intact{keyed}")
        if args.expect_head:
            print(f"expected head found at event {report.expected_at}; {report.after_expected} event(s) since")
        print(f"head {report.head}")
        return 0
    where = f"at event {report.broken_event_id}" if report.broken_event_id else "as a whole"
    print(f"BROKEN {where}: {report.reason}", file=sys.stderr)
    print(f"last good hash: {report.head}", file=sys.stderr)
    return 1


def cmd_audit_replay(args) -> int:
    """Exit 0 when the tables hold what the audit events say; exit 1 naming every row changed outside the app."""
    from annotator.audit_replay import replay_database

    report = replay_database(open_store(args))
    print(
        f"{report.events} events replayed against {report.spans} spans, {report.links} links, {report.reviews} review decisions"
    )
    for line in report.differences:
        print(f"DIFFERS: {line}", file=sys.stderr)
    if report.ok:
        print("ok: the tables hold what the audit log says")
        return 0
    print(f"{len(report.differences)} difference(s): rows changed outside the app", file=sys.stderr)
    return 1


def _username(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", required=True, help="the account's user name")


def register(sub) -> None:
    """The ``users …`` and ``audit …`` subcommands."""
    users = sub.add_parser("users", help="manage accounts (passwords are read from standard input)")
    users_sub = users.add_subparsers(dest="users_command", required=True)

    p = add_command(users_sub, "add", cmd_users_add, help="create an account; the password is read from standard input")
    _username(p)
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--display-name", default="", help="name shown in the app (may be Arabic)")
    add_command(users_sub, "list", cmd_users_list, help="list accounts")
    for name, func, what in (
        ("deactivate", cmd_users_deactivate, "deactivate an account and end its sessions"),
        ("reactivate", cmd_users_reactivate, "let a deactivated account log in again"),
        ("reset-password", cmd_users_reset_password, "set a new password (read from standard input)"),
    ):
        _username(add_command(users_sub, name, func, help=what))
    p = add_command(users_sub, "set-role", cmd_users_set_role, help="change an account's role")
    _username(p)
    p.add_argument("--role", required=True, choices=ROLES)

    audit = sub.add_parser("audit", help="the tamper-evident audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    p = add_command(
        audit_sub, "verify", cmd_audit_verify,
        help="check the hash chain; prints the head hash (keep it outside the database)",
    )  # fmt: skip
    p.add_argument(
        "--expect-head", default=None, metavar="HASH",
        help="a head hash printed earlier and kept elsewhere: fail unless it is in the chain (catches events removed "
        "from the end, and a replaced log)",
    )  # fmt: skip
    add_command(
        audit_sub, "replay", cmd_audit_replay,
        help="rebuild spans, links, review decisions and gold from the events and compare them with the tables",
    )  # fmt: skip
