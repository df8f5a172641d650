"""`rounds invite ...`: invitation links from the shell.

    rounds invite create [--expires-days N] [--max-uses N] [--note TEXT]
    rounds invite list
    rounds invite revoke ID [--reason TEXT]

The rules live in `federation.admin.invites` (the console's users page makes the same calls);
this module parses, opens the database, owns the transaction and prints. Every create and
revoke is audited as `cli:<login>`. Links made here are staff-made: they work whatever the
registrations setting says.
"""

from __future__ import annotations

import argparse
import getpass

from federation.admin import invites
from federation.runtime.clock import SystemClock
from server.commands import open_database_checked, require_initialised
from server.config import Settings
from storage.models import Invitation

CLOCK = SystemClock()


def _by() -> str:
    return f"cli:{getpass.getuser()}"


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _link(settings: Settings, invitation: Invitation) -> str:
    return f"{settings.public_url}/auth/invite/{invitation.code}"


def add_invite_commands(sub) -> None:
    """Register `rounds invite` and its actions on the top-level subparsers."""
    invite = sub.add_parser(
        "invite", help="make, list or revoke invitation links",
        description="Invitation links let a newcomer create her own account at /auth/invite/CODE, whatever "
        "the instance's registrations setting says (only staff and the shell make them). A link stops "
        "working once revoked, expired or used up. Every create, revoke and use is written to the audit "
        "log ('rounds audit').",
    )
    actions = invite.add_subparsers(dest="invite_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="make an invitation and print its link",
                                description="Make an invitation link and print it. Without options, it "
                                "never expires and has no limit on uses.")
    create.add_argument("--expires-days", type=_positive, metavar="N", help="the link expires after N days")
    create.add_argument("--max-uses", type=_positive, metavar="N", help="the link creates at most N accounts")
    create.add_argument("--note", default="", metavar="TEXT", help="a note for staff: who it is for")
    create.set_defaults(run=invite_create)
    actions.add_parser("list", help="list the live invitations",
                       description="List the invitations that still work: id, link, who made it, uses, "
                       "expiry and note.").set_defaults(run=invite_list)
    revoke = actions.add_parser("revoke", help="stop an invitation link from working",
                                description="Revoke an invitation (its id from 'rounds invite list'): its "
                                "link no longer creates accounts; those it created stay.")
    revoke.add_argument("id", type=int, help="the invitation's id")
    revoke.add_argument("--reason", default="", metavar="TEXT", help="why, kept in the audit log")
    revoke.set_defaults(run=invite_revoke)


async def invite_create(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            invitation = await invites.create(session, note=args.note, expires_days=args.expires_days,
                                              max_uses=args.max_uses, by=_by(), at=CLOCK.now())
    expiry = f"expires {invitation.expires_at:%Y-%m-%d %H:%M} UTC" if invitation.expires_at else "never expires"
    uses = f"{invitation.max_uses} use(s)" if invitation.max_uses else "unlimited uses"
    print(f"Invitation {invitation.id} ({expiry}, {uses}):")
    print(_link(settings, invitation))
    return 0


async def invite_list(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions() as session:
            rows = await invites.live(session, CLOCK.now())
    if not rows:
        print("No live invitations; make one with 'rounds invite create'.")
        return 0
    print(f"{'ID':<20} {'MADE BY':<20} {'USES':<9} {'EXPIRES':<17} LINK / NOTE")
    for row in rows:
        uses = f"{row.uses}/{row.max_uses if row.max_uses else '-'}"
        expires = f"{row.expires_at:%Y-%m-%d %H:%M}" if row.expires_at else "never"
        note = f"  ({row.note})" if row.note else ""
        print(f"{row.id:<20} {row.created_by:<20} {uses:<9} {expires:<17} {_link(settings, row)}{note}")
    return 0


async def invite_revoke(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            changed = await invites.revoke(session, args.id, by=_by(), at=CLOCK.now(), reason=args.reason)
    print(f"Revoked invitation {args.id}; its link no longer works." if changed
          else f"Invitation {args.id} was already revoked; nothing changed.")
    return 0
