"""Profile the inbox worker in one process: N queued Creates of Notes (public, from remote actors
every local user follows, some mentioning a local user, half with hashtags, a third replies to an
earlier one) handled by `federation.inbox.worker.InboxPump`, under cProfile, or timed. With
`--mix`, the N items are bench/drain_world.py's realistic mix instead: Creates about 70%, Likes
and Announces of others' notes 10% each, Updates 6% and Deletes 4% of one's own.

    PYTHONPATH=. .venv/bin/python bench/inbox_profile.py [--items 300] [--top 40] [--sort tottime]
    PYTHONPATH=. .venv/bin/python bench/inbox_profile.py --no-profile      # CPU per item only
    PYTHONPATH=.:bench .venv/bin/python bench/inbox_profile.py --no-profile --mix
    PYTHONPATH=.:bench .venv/bin/python bench/inbox_profile.py --no-profile --mix --statements  # each statement's runs and time
    ROUNDS_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test PYTHONPATH=. ...

It uses the test suite's instances (tests/instances.py: a real instance on loopback, its
database in a temporary directory, or a fresh schema on PostgreSQL) and a fake peer serving the
actors; the items are inserted as intake would store them, so only the worker is measured:
what the worker's own process spends per item (CPU, and wall time) while it drains them.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from federation.inbox import committer, worker
from federation.protocol.vocab import AS_CONTEXT, PUBLIC
from federation.remote.resolve import resolve_actor
from sqlalchemy import event, func, select

from drain_world import World, activity, make_plan
from storage import savepoints
from storage.ids import new_id
from storage.models import Follow, FollowState, InboxItem, InboxState
from tests.fakepeer import FakePeer
from tests.instances import InstanceFactory

ACTORS = 10
LOCAL_USERS = 5
TAGS = ("sepsis", "handover", "icu", "nursing", "pharmacy")


def _create(peer: FakePeer, name: str, k: int, local: list[str], earlier: list[str], rng: random.Random) -> dict:
    uri = f"{peer.base}/users/{name}/statuses/{k}"
    note = {"id": uri, "type": "Note", "attributedTo": f"{peer.base}/users/{name}", "to": [PUBLIC],
            "cc": [f"{peer.base}/users/{name}/followers"], "published": "2026-01-01T00:00:00Z",
            "content": f"<p>Case review {k}: the huddle checklist helped at handover.</p>", "tag": []}
    if rng.random() < 0.2:
        user = rng.choice(local)
        note["tag"].append({"type": "Mention", "href": user, "name": "@x"})
        note["cc"].append(user)
    if rng.random() < 0.5:
        tag = rng.choice(TAGS)
        note["tag"].append({"type": "Hashtag", "href": f"{peer.base}/tags/{tag}", "name": f"#{tag}"})
    if earlier and rng.random() < 0.33:
        note["inReplyTo"] = rng.choice(earlier)
    return {"@context": AS_CONTEXT, "id": f"{uri}/activity", "type": "Create",
            "actor": f"{peer.base}/users/{name}", "object": note, "to": note["to"], "cc": note["cc"]}


async def main(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        factory = InstanceFactory(Path(tmp), os.environ.get("ROUNDS_TEST_DATABASE_URL") or None)
        peer = await FakePeer().start()
        try:
            a = await factory.start()
            users = [(await a.add_user(f"u{n}"))[1] for n in range(LOCAL_USERS)]
            names = [f"{'a' if args.mix else 'r'}{n}" for n in range(ACTORS)]
            for n, name in enumerate(names):
                peer.add_actor(name, key=n % 3)
            remotes = [await resolve_actor(a.fed, f"{peer.base}/users/{name}") for name in names]
            async with a.db.sessions.begin() as session:
                for user in users:
                    session.add_all([Follow(follower_id=user.id, followee_id=remote.id, state=FollowState.accepted)
                                     for remote in remotes])
            rng = random.Random(args.seed)
            local = [user.uri for user in users]
            earlier: list[str] = []
            rows = []
            now = a.clock.now()
            if args.mix:  # drain_world's actors are a0, a1, ... on one peer here
                world = World(rounds_base=a.fed.urls.base, peer_ports=(int(peer.base.rpartition(":")[2]),),
                              actors_per_peer=ACTORS, local_users=tuple(f"u{n}" for n in range(LOCAL_USERS)),
                              items=args.items, seed=args.seed, start=now.timestamp() - args.items - 60)
                plan = make_plan(world)
                documents = [activity(world, plan, k) for k in range(args.items)]
            else:
                documents = []
                for k in range(args.items):
                    documents.append(_create(peer, names[k % ACTORS], k, local, earlier, rng))
                    earlier.append(documents[-1]["object"]["id"])
            for k, document in enumerate(documents):
                rows.append(InboxItem(id=new_id(), activity_uri=document["id"], activity_type=document["type"],
                                      actor_uri=document["actor"], signer_key_id=document["actor"] + "#main-key",
                                      raw=json.dumps(document), state=InboxState.queued, attempts=0,
                                      received_at=now, next_attempt_at=now - timedelta(seconds=1), turn=k))
            async with a.db.sessions.begin() as session:
                session.add_all(rows)

            statements = Counter()
            event.listen(a.db.engine.sync_engine, "before_cursor_execute",
                   lambda conn, cursor, sql, params, context, many: statements.update([sql.split(None, 1)[0].upper()]))
            # PostgreSQL: a RELEASE sent with the next SAVEPOINT goes around that event (one message)
            together = savepoints.send_together
            savepoints.send_together = lambda conn, sql: (statements.update(["RELEASE+SAVEPOINT"]), together(conn, sql))
            if args.statements:  # how often each statement runs, and the wall time of its execution
                texts, spent = Counter(), Counter()

                def started(conn, cursor, sql, params, context, many):
                    context._bench_started = time.perf_counter()

                def ended(conn, cursor, sql, params, context, many):
                    text = " ".join(sql.split())[:150]
                    texts[text] += 1
                    spent[text] += time.perf_counter() - context._bench_started

                event.listen(a.db.engine.sync_engine, "before_cursor_execute", started)
                event.listen(a.db.engine.sync_engine, "after_cursor_execute", ended)
            # what ends a transaction never passes before_cursor_execute, nor does asyncpg's BEGIN
            # (SQLite's BEGIN IMMEDIATE does: storage.db.take_write_lock); count them apart, once,
            # but not on a connection in autocommit (PostgreSQL's reads), where the driver sends none
            verbs = ("commit", "rollback") if a.db.is_sqlite else ("begin", "commit", "rollback")

            def sent(conn, verb: str) -> None:
                if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                    statements.update([verb])

            for verb in verbs:
                event.listen(a.db.engine.sync_engine, verb, lambda conn, verb=verb.upper(): sent(conn, verb))
            transactions = [0]
            commit = committer.Committer._commit

            async def counted(self, taken):
                transactions[0] += 1
                await commit(self, taken)

            committer.Committer._commit = counted
            # the CPU of the event loop's thread inside `Committer._handle` and `_handle_alike`
            # (savepoints, actors and handlers; the outermost call only, since the second calls the
            # first for what it leaves): on SQLite their statements run on that thread (the write
            # lock is held) and they never wait, so this is the handlers' own cost, whatever else runs
            handling, depth = Counter(), [0]  # CPU seconds by activity type
            sent_by = Counter()  # statements sent by activity type (under the same calls)

            def timed(method):
                async def run(self, session, works, *args):
                    depth[0] += 1
                    started, before = time.thread_time(), sum(statements.values())
                    try:
                        await method(self, session, works, *args)
                    finally:
                        depth[0] -= 1
                        if not depth[0]:
                            works = works if isinstance(works, list) else [works]
                            for work in works:
                                handling[work.item.activity_type] += (time.thread_time() - started) / len(works)
                                sent_by[work.item.activity_type] += (sum(statements.values()) - before) / len(works)
                return run

            committer.Committer._handle = timed(committer.Committer._handle)
            committer.Committer._handle_alike = timed(committer.Committer._handle_alike)
            pump = worker.InboxPump(a.fed)
            profile = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall
            cpu, wall = time.process_time(), time.perf_counter()
            if profile:
                profile.enable()
            while True:  # as the worker loop does, woken by its own chains' ends
                if not await pump.step():
                    if not pump._chains:
                        break
                    await asyncio.wait(pump._chains, return_when=asyncio.FIRST_COMPLETED)
            if profile:
                profile.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            async with a.db.sessions() as session:
                states = dict((await session.execute(
                    select(InboxItem.state, func.count()).group_by(InboxItem.state))).all())
            kinds = Counter(document["type"] for document in documents)
            print(f"{args.items} items ({', '.join(f'{kind} {n}' for kind, n in kinds.most_common())}): {wall:.2f} s wall, {cpu:.2f} s CPU of this process "
                  f"({1000 * cpu / args.items:.2f} ms CPU per item, {args.items / wall:.0f} items/s); "
                  f"states {({state.value: n for state, n in states.items()})}")
            print(f"handling (Committer._handle and _handle_alike, the loop thread's CPU): "
                  f"{1000 * sum(handling.values()) / args.items:.2f} ms per item; by type: "
                  + ", ".join(f"{kind} {1000 * handling[kind] / n:.2f}" for kind, n in kinds.most_common()))
            print("statements sent while handling, per item of each type (savepoints included): "
                  + ", ".join(f"{kind} {sent_by[kind] / n:.1f}" for kind, n in kinds.most_common()))
            print(f"{transactions[0]} committer transactions ({args.items / transactions[0]:.1f} items each); "
                  f"statements per item {sum(statements.values()) / args.items:.1f}: "
                  + ", ".join(f"{verb} {n / args.items:.2f}" for verb, n in statements.most_common()))
            if args.statements:
                print("per item: runs, ms of execution (on SQLite with the write lock, the database's own work)")
                for sql, seconds in spent.most_common(40):
                    print(f"{texts[sql] / args.items:6.2f} {1000 * seconds / args.items:6.3f}  {sql}")
            if profile:
                stats = pstats.Stats(profile)
                print(f"{stats.total_calls / args.items:.0f} Python calls per item (under cProfile)")
                if args.top:
                    stats.sort_stats(args.sort).print_stats(args.top)
                if args.dump:
                    stats.dump_stats(args.dump)
        finally:
            await peer.stop()
            await factory.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--statements", action="store_true", help="print the statements run, per item")
    parser.add_argument("--mix", action="store_true", help="bench/drain_world.py's mix of activities, not Creates only")
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--dump", metavar="FILE", help="also write the profile to FILE, for pstats")
    asyncio.run(main(parser.parse_args()))
