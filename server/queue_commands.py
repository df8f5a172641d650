"""`rounds queue ...`: the admin's view of the inbox and delivery queues from the shell.

    rounds queue list [--inbox | --deliveries] [--state STATE ...] [--limit N]
    rounds queue retry inbox|deliveries (ID ... | --all-dead)
    rounds queue discard inbox|deliveries (ID ... | --all-dead)
    rounds queue prune

The rules live in `federation.admin.queues`; this module parses, opens the database, owns the
transaction and prints. Usage errors exit with 2 (argparse, and `check` for what argparse cannot
say), a refused request (an unknown id, an item in the wrong state) with 1.
"""

from __future__ import annotations

import argparse
import getpass
from functools import partial

from federation.admin import queues as queue_admin
from federation.admin import retention
from federation.runtime.clock import SystemClock
from federation.admin.queues import DELIVERIES, INBOX, QUEUES, STATES
from server.commands import open_database_checked, require_initialised
from server.config import Settings

CLOCK = SystemClock()
ERROR_WIDTH = 60


def add_queue_commands(sub) -> None:
    """Register `rounds queue` and its actions on the top-level subparsers."""
    queue = sub.add_parser(
        "queue", help="list, retry, discard or prune inbox items and deliveries",
        description="Look after the work queues: received activities waiting to be handled (inbox) and "
        "activities waiting to be sent (deliveries). An inbox item whose handling failed is retried with "
        "backoff and is dead after [federation] inbox_max_attempts attempts; a delivery is dead after a "
        "permanent refusal or delivery_max_age_days. Dead items wait here for an admin. Every retry and "
        "discard is written to the audit log ('rounds audit'). Settled items are deleted after [federation] "
        "finished_retention_days (done, delivered) or failed_retention_days (dead, discarded): 'rounds queue prune'.",
    )
    actions = queue.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    every_state = sorted({state for states in STATES.values() for state in states})
    listing = actions.add_parser(
        "list", help="list queued, failed and dead items",
        description="List inbox items and deliveries: id, queue, state, attempts, activity type, peer, when "
        "received or created, when next due (or when finished), and the last error. Without --state, the "
        "items still waiting: queued, failed and dead. Newest last.",
    )
    which = listing.add_mutually_exclusive_group()
    which.add_argument("--inbox", dest="queues", action="store_const", const=[INBOX], help="only inbox items")
    which.add_argument("--deliveries", dest="queues", action="store_const", const=[DELIVERIES],
                       help="only deliveries")
    listing.add_argument("--state", action="append", choices=every_state, metavar="STATE",
                         help=f"only items in this state; repeat for several ({', '.join(every_state)})")
    listing.add_argument("--limit", type=_count, default=100, help="at most this many per queue (default 100)")
    listing.set_defaults(run=queue_list, check=partial(_check_list, listing))
    for name, verb, helptext in (
        ("retry", "retry", "queue failed or dead items again, due now"),
        ("discard", "discard", "give up on items: an inbox item is discarded, a delivery cancelled"),
    ):
        moves = {
            "retry": "an inbox item that is failed or dead becomes queued and due now, with its attempts from "
                     "zero; a dead delivery becomes queued and due now (once its peer's backoff, if any, ends).",
            "discard": "an inbox item that is failed or dead becomes discarded (kept, so a redelivery of the "
                       "activity is still a no-op); a queued or dead delivery becomes cancelled.",
        }[name]
        parser = actions.add_parser(
            name, help=helptext,
            description=f"{helptext.capitalize()}: {moves} Name the items by id ('rounds queue list' shows "
            "them), or choose every dead item with --all-dead. If any id is unknown or in the wrong state, "
            "nothing changes.",
        )
        parser.add_argument("queue", choices=QUEUES, help="inbox or deliveries")
        parser.add_argument("ids", nargs="*", type=int, metavar="ID", help="the items to " + verb)
        parser.add_argument("--all-dead", action="store_true", help=f"{verb} every dead item of the queue")
        parser.set_defaults(run=queue_retry if name == "retry" else queue_discard,
                            check=partial(_check_targets, parser))
    actions.add_parser(
        "prune", help="delete settled items past their retention now",
        description="Delete, now, what the workers delete every 10 minutes: inbox items done or ignored, and "
        "deliveries and Web Pushes delivered, handled more than [federation] finished_retention_days ago (default "
        "7); inbox items dead or discarded, and deliveries and Web Pushes dead or cancelled, more than "
        "failed_retention_days ago (default 30). 0 keeps them forever. Items still queued or failed (to be "
        "retried) are never deleted. It deletes 500 rows per transaction, so the workers go on meanwhile.",
    ).set_defaults(run=queue_prune)


def _count(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _check_list(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for queue in args.queues or ():
        wrong = [state for state in args.state or () if state not in STATES[queue]]
        if wrong:
            parser.error(f"{queue} have no state {wrong[0]!r} (theirs: {', '.join(STATES[queue])})")


def _check_targets(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if bool(args.ids) == args.all_dead:
        parser.error("name the items by ID, or give --all-dead (one or the other)")


def _by() -> str:
    return f"cli:{getpass.getuser()}"


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _one_line(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= ERROR_WIDTH else flat[:ERROR_WIDTH - 1] + "…"


async def queue_list(settings: Settings, args: argparse.Namespace) -> int:
    queues = args.queues or list(QUEUES)
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions() as session:
            rows = []
            for queue in queues:
                states = [s for s in args.state or () if s in STATES[queue]] or None
                if args.state and states is None:
                    continue  # asked only for states this queue does not have
                rows += await queue_admin.list_items(session, queue, states, args.limit)
    if not rows:
        print(f"No items{' in state ' + ', '.join(args.state) if args.state else ' waiting'}.")
        return 0
    print(f"{'QUEUE':<10} {'ID':<20} {'STATE':<9} {'TRIES':>5}  {'TYPE':<10} {'PEER':<28} {'CREATED':<19}  "
          f"{'NEXT / FINISHED':<19}  LAST ERROR")
    for row in rows:
        later = row.finished_at if row.finished_at else row.next_attempt_at
        print(f"{row.queue:<10} {row.id:<20} {row.state:<9} {row.attempts:>5}  {row.type:<10} {row.peer:<28} "
              f"{_when(row.created_at):<19}  {_when(later):<19}  {_one_line(row.last_error)}")
    return 0


async def queue_retry(settings: Settings, args: argparse.Namespace) -> int:
    return await _move(settings, args, queue_admin.retry, "retried (queued, due now)")


async def queue_discard(settings: Settings, args: argparse.Namespace) -> int:
    return await _move(settings, args, queue_admin.discard,
                       "discarded" if args.queue == INBOX else "cancelled")


async def _move(settings: Settings, args: argparse.Namespace, move, done: str) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            moved = await move(session, args.queue, None if args.all_dead else args.ids, by=_by(), at=CLOCK.now())
    noun = "inbox item" if args.queue == INBOX else "delivery"
    if not moved:
        print(f"No dead {noun} to act on.")
    for item_id in moved:
        print(f"{noun} {item_id} {done}")
    return 0


async def queue_prune(settings: Settings, args: argparse.Namespace) -> int:
    kept = retention.Retention.of(settings.federation)
    if kept.finished is None and kept.failed is None:
        print("Nothing to prune: finished_retention_days and failed_retention_days are both 0 (keep forever).")
        return 0
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        deleted = await retention.sweep(db, CLOCK.now(), kept)
    print("Deleted " + ", ".join(f"{n} {queue}" for queue, n in deleted.items()) + ".")
    return 0
