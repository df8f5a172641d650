"""`rounds announcement ...` and `rounds emoji ...`: what the instance shows every user, from the
shell.

    rounds announcement create TEXT [--starts-at TIME] [--ends-at TIME] [--all-day]
    rounds announcement list
    rounds announcement remove ID
    rounds emoji add SHORTCODE IMAGE [--category NAME]
    rounds emoji list
    rounds emoji remove SHORTCODE

The rules live in `federation.admin.announcements` and `federation.social.emojis` (the admin
API makes the same calls); this module parses, opens the database, owns the transaction and
prints. Every change is audited as `cli:<login>`.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from federation.admin import announcements
from federation.protocol.vocab.values import parse_datetime
from federation.runtime.clock import SystemClock
from federation.social import emojis
from server.api.media import media_store
from server.commands import CommandError, open_database_checked, require_initialised
from server.config import Settings
from storage import announcements as announcement_queries

CLOCK = SystemClock()
T = TypeVar("T")


def _by() -> str:
    return f"cli:{getpass.getuser()}"


async def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]], *, write: bool) -> T:
    """`work(session)` on the instance's database: in one transaction that commits, to `write`."""
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() if write else db.sessions() as session:
            return await work(session)


def _time(text: str) -> datetime:
    parsed = parse_datetime(text)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time such as 2026-12-24T08:00:00Z")
    return parsed


def add_notice_commands(sub) -> None:
    """Register `rounds announcement` and `rounds emoji` on the top-level subparsers."""
    announcement = sub.add_parser(
        "announcement", help="make, list or remove announcements to every user",
        description="Announcements show in every user's app (GET /api/v1/announcements) until they end "
        "or are removed; users dismiss them and react to them. Every create and remove is written to "
        "the audit log ('rounds audit').")
    actions = announcement.add_subparsers(dest="announcement_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="announce something to every user",
                                description="Make an announcement. TEXT is plain text; blank lines split "
                                "paragraphs.")
    create.add_argument("text", help="what to announce")
    create.add_argument("--starts-at", type=_time, metavar="TIME", help="when the event it announces starts (ISO 8601)")
    create.add_argument("--ends-at", type=_time, metavar="TIME",
                        help="when it ends (ISO 8601); the announcement is no longer shown after")
    create.add_argument("--all-day", action="store_true", help="the event takes whole days")
    create.set_defaults(run=announcement_create)
    actions.add_parser("list", help="list every announcement",
                       description="List every announcement: id, who made it, when it ends, and its text."
                       ).set_defaults(run=announcement_list)
    remove = actions.add_parser("remove", help="remove an announcement",
                                description="Remove an announcement (its id from 'rounds announcement list'), "
                                "with its dismissals and reactions.")
    remove.add_argument("id", type=int, help="the announcement's id")
    remove.set_defaults(run=announcement_remove)

    emoji = sub.add_parser(
        "emoji", help="add, list or remove custom emojis",
        description="Custom emojis: a :shortcode: in a post, a name or a bio shows as its image, and apps "
        "offer them in their picker (GET /api/v1/custom_emojis). Every add and remove is written to the "
        "audit log ('rounds audit').")
    emoji_actions = emoji.add_subparsers(dest="emoji_command", metavar="ACTION", required=True)
    add = emoji_actions.add_parser("add", help="add a custom emoji from an image file",
                                   description="Add a custom emoji. The image is checked and stored as an "
                                   "upload is ([api] media_types, media_max_bytes, media_max_pixels).")
    add.add_argument("shortcode", help="2 to 64 letters, digits or underscores, e.g. handwash")
    add.add_argument("image", type=Path, help="the image file (PNG, GIF or WebP, small and square)")
    add.add_argument("--category", metavar="NAME", help="the group apps list it under")
    add.set_defaults(run=emoji_add)
    emoji_actions.add_parser("list", help="list the custom emojis",
                             description="List the custom emojis: shortcode, category and image URL."
                             ).set_defaults(run=emoji_list)
    remove = emoji_actions.add_parser("remove", help="remove a custom emoji",
                                      description="Remove a custom emoji and its image; posts that used it "
                                      "show the :shortcode: as text.")
    remove.add_argument("shortcode")
    remove.set_defaults(run=emoji_remove)


async def announcement_create(settings: Settings, args: argparse.Namespace) -> int:
    row = await _run(settings, lambda session: announcements.create(
        session, args.text, starts_at=args.starts_at, ends_at=args.ends_at, all_day=args.all_day, by=_by(),
        at=CLOCK.now()), write=True)
    print(f"Announcement {row.id} is shown to every user.")
    return 0


async def announcement_list(settings: Settings, args: argparse.Namespace) -> int:
    rows = await _run(settings, announcement_queries.all_announcements, write=False)
    if not rows:
        print("No announcements; make one with 'rounds announcement create TEXT'.")
        return 0
    print(f"{'ID':<20} {'MADE BY':<20} {'ENDS':<17} TEXT")
    for row in rows:
        ends = f"{row.ends_at:%Y-%m-%d %H:%M}" if row.ends_at else "-"
        print(f"{row.id:<20} {row.created_by:<20} {ends:<17} {' '.join(row.text.split())[:60]}")
    return 0


async def announcement_remove(settings: Settings, args: argparse.Namespace) -> int:
    await _run(settings, lambda session: announcements.remove(session, args.id, by=_by(), at=CLOCK.now()),
               write=True)
    print(f"Removed announcement {args.id}.")
    return 0


async def emoji_add(settings: Settings, args: argparse.Namespace) -> int:
    try:
        data = args.image.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {args.image}: {exc.strerror}") from None
    emoji = await _run(settings, lambda session: emojis.add(
        session, media_store(settings), args.shortcode, data, category=args.category, by=_by(), at=CLOCK.now()),
        write=True)
    print(f"Added :{emoji.shortcode}:.")
    return 0


async def emoji_list(settings: Settings, args: argparse.Namespace) -> int:
    rows = await _run(settings, emojis.local, write=False)
    if not rows:
        print("No custom emojis; add one with 'rounds emoji add SHORTCODE IMAGE'.")
        return 0
    print(f"{'SHORTCODE':<30} {'CATEGORY':<20} IMAGE")
    for row in rows:
        print(f"{':' + row.shortcode + ':':<30} {row.category or '-':<20} {settings.public_url}/media/{row.file_name}")
    return 0


async def emoji_remove(settings: Settings, args: argparse.Namespace) -> int:
    await _run(settings, lambda session: emojis.remove(session, media_store(settings), args.shortcode, by=_by(),
                                                       at=CLOCK.now()), write=True)
    print(f"Removed :{args.shortcode.strip(':')}:.")
    return 0
