"""Benchmark: signed Create(Note) activities per second that one `rounds serve` process (SQLite,
one core) accepts and stores durably (202 after the inbox row is committed), against a bare
aiohttp handler that only checks the digest and verifies the signature (bench/bare_inbox.py),
both on the same core, in the same run.

    .venv/bin/python bench/inbound.py [--seconds 5] [--rounds 2] [--connections 64] [--depth 2]

Target (issue 3): ratio rounds/bare >= 0.5 (the bare handler does about 5k/s here).

How: a sender actor (a fixture RSA-2048 key) is served by bench/bare_server.py, so Rounds fetches
its key once. Distinct ~3.6 KB Create(Note) activities are signed (draft-cavage, rsa-sha256) in two
processes, never while a server is timed; the load generator (bench/loadgen.py, pipelined keep-alive
connections, pinned to the other core) sends each once to Rounds' shared inbox, and cycles one
pool of them at the bare handler. Afterwards the inbox_items rows are counted: every 202 must
be a stored row. Rounds' own inbox worker runs in the same process, as in production; after
each round the benchmark waits for it to drain the queue and reports how fast it did.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import multiprocessing
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import (
    BIN, CLIENT_CORE, HERE, SERVER_CORE, free_port, load, load_measured, machine_load, make_instance, pinned,
    wait_for,
)
from loadgen import write_requests

from federation.protocol.keys import generate_rsa_keypair, load_private_key
from federation.protocol.signatures import sign_request
from federation.protocol.vocab import AS_CONTEXT, PUBLIC, SECURITY_CONTEXT

BODY_BYTES = 3600
CONTENT_TYPE = "application/activity+json"
_published = itertools.count(int(time.time()), -1)  # one `published` second per note, counting down
NOTE_CONTEXT = [AS_CONTEXT, {"ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri",
                             "conversation": "ostatus:conversation", "sensitive": "as:sensitive",
                             "toot": "http://joinmastodon.org/ns#", "Hashtag": "as:Hashtag"}]


def actor_document(base: str, public_pem: str) -> dict:
    uri = f"{base}/users/sender"
    return {
        "@context": [AS_CONTEXT, SECURITY_CONTEXT], "id": uri, "type": "Person",
        "preferredUsername": "sender", "name": "Sender", "inbox": f"{uri}/inbox", "outbox": f"{uri}/outbox",
        "followers": f"{uri}/followers",
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_pem},
    }


def create_note(actor: str, name: str, published: str) -> bytes:
    """A Mastodon-shaped Create(Note), padded to about BODY_BYTES. Each note has its own
    `published` second (Rounds mints remote post ids from it)."""
    note_id = f"{actor}/statuses/{name}"
    note = {
        "id": note_id, "type": "Note", "summary": None, "inReplyTo": None, "published": published,
        "url": f"{actor.replace('/users/', '/@')}/{name}", "attributedTo": actor, "to": [PUBLIC],
        "cc": [f"{actor}/followers"], "sensitive": False, "atomUri": note_id,
        "conversation": f"tag:bench,2025:objectId={name}:objectType=Conversation",
        "content": "", "contentMap": {"en": ""}, "attachment": [], "tag": [],
    }
    activity = {"@context": NOTE_CONTEXT, "id": f"{note_id}/activity", "type": "Create", "actor": actor,
                "published": published, "to": [PUBLIC], "cc": [f"{actor}/followers"], "object": note}
    room = BODY_BYTES - len(json.dumps(activity, separators=(",", ":")))
    words = ("Case review: sepsis bundle compliance rose after the huddle checklist was adopted. " * 40)
    text = f"<p>{name} " + words[: max(room // 2 - 12, 0)] + "</p>"
    note["content"] = note["contentMap"]["en"] = text
    return json.dumps(activity, separators=(",", ":")).encode()


def _sign_chunk(job: tuple[str, str, str, str, list[tuple[str, int]]]) -> list[bytes]:
    """Raw HTTP requests, signed now; runs in a worker process."""
    private_pem, key_id, actor, authority, notes = job
    key = load_private_key(private_pem)
    url = f"http://{authority}/inbox"
    out = []
    for name, published in notes:
        body = create_note(actor, name, datetime.fromtimestamp(published, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        headers = {"Content-Type": CONTENT_TYPE}
        headers.update(sign_request("POST", url, headers, body, key_id=key_id, private_key=key,
                                    now=datetime.now(UTC)))
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        out.append(f"POST /inbox HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return out


def sign_all(pool: multiprocessing.pool.Pool, keys, actor: str, authority: str, names: list[str]) -> list[bytes]:
    """One signed POST /inbox per name, signed in the pool's processes."""
    notes = [(name, next(_published)) for name in names]
    chunks = [notes[i:i + 500] for i in range(0, len(notes), 500)]
    jobs = [(keys.private_pem, f"{actor}#main-key", actor, authority, chunk) for chunk in chunks]
    return [request for part in pool.map(_sign_chunk, jobs) for request in part]


def stored(db: Path, prefix: str) -> tuple[int, int, int]:
    """Inbox rows whose activity id starts with prefix: (all, still queued, failed)."""
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(
            "SELECT count(*), coalesce(sum(state = 'queued'), 0), coalesce(sum(state = 'failed'), 0) "
            "FROM inbox_items WHERE activity_uri LIKE ?", (prefix + "%",),
        ).fetchone()


def drain(db: Path, prefix: str, timeout: float) -> tuple[float, int, int]:
    """Wait until Rounds' inbox worker has handled every row: (seconds waited, rows left, failed)."""
    started = time.monotonic()
    while True:
        _, queued, failed = stored(db, prefix)
        if queued == 0 or time.monotonic() - started > timeout:
            return time.monotonic() - started, queued, failed
        time.sleep(0.25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--depth", type=int, default=2, help="pipelined requests per connection")
    parser.add_argument("--pool", type=int, default=4000, help="distinct requests cycled at the bare handler")
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="rounds-bench-inbound-"))
    keys = generate_rsa_keypair()
    sender_port = free_port()
    sender_base = f"http://127.0.0.1:{sender_port}"
    actor = f"{sender_base}/users/sender"
    (work / "actor.json").write_text(json.dumps(actor_document(sender_base, keys.public_pem)))
    (work / "public.pem").write_text(keys.public_pem)
    config, port = make_instance(users=(), federation={"mode": "open", "allow_private_addresses": True})
    db = config.parent / "data" / "rounds.db"
    authority = f"127.0.0.1:{port}"
    bare_port = free_port()
    processes: list[subprocess.Popen] = []
    rounds_log = (work / "rounds.log").open("wb")  # closed in finally
    try:
        sender = subprocess.Popen(pinned(CLIENT_CORE, [sys.executable, str(HERE / "bare_server.py"), str(sender_port),
                                                       str(work / "actor.json"), CONTENT_TYPE]))
        processes.append(sender)
        rounds_server = subprocess.Popen(
            pinned(SERVER_CORE, [str(BIN / "rounds"), "--config", str(config), "serve"]),
            stdout=subprocess.DEVNULL, stderr=rounds_log,
        )
        processes.append(rounds_server)
        bare = subprocess.Popen(pinned(SERVER_CORE, [sys.executable, str(HERE / "bare_inbox.py"), str(bare_port),
                                                     authority, str(work / "public.pem")]))
        processes.append(bare)
        wait_for(f"{sender_base}/users/sender", sender)
        wait_for(f"http://{authority}/healthz", rounds_server)
        wait_for(f"http://127.0.0.1:{bare_port}/", bare)

        with multiprocessing.Pool(2) as pool:
            sign = functools.partial(sign_all, pool, keys, actor, authority)
            files = {name: work / f"{name}.requests" for name in ("warm", "cycled", "round")}
            write_requests(files["warm"], sign([f"w-{i}" for i in range(1000)]))
            write_requests(files["cycled"], sign([f"b-{i}" for i in range(args.pool)]))

            # The first activity makes Rounds fetch the sender's key; then a warm-up on both servers.
            load(f"http://{authority}/inbox", 1.0, 1, 1, requests_file=files["warm"])
            load(f"http://{authority}/inbox", 1.0, args.connections, args.depth, requests_file=files["warm"])
            drain(db, f"{actor}/statuses/w-", args.drain_timeout)
            load(f"http://127.0.0.1:{bare_port}/inbox", 1.0, args.connections, args.depth,
                 requests_file=files["cycled"], cycle=True)

            results, load_before = [], machine_load()
            for n in range(args.rounds):
                bare_result = load_measured(bare.pid, f"http://127.0.0.1:{bare_port}/inbox", args.seconds,
                                            args.connections, args.depth, requests_file=files["cycled"], cycle=True)
                # Each activity goes to Rounds once: sign (untimed) as many as the bare handler took, plus 10%.
                signed = int(bare_result["per_second"] * args.seconds * 1.1)
                write_requests(files["round"], sign([f"r{n}-{i}" for i in range(signed)]))
                rounds_result = load_measured(rounds_server.pid, f"http://{authority}/inbox", args.seconds,
                                              args.connections, args.depth, requests_file=files["round"])
                rounds_result["ran_out"] = rounds_result["requests"] >= signed
                prefix = f"{actor}/statuses/r{n}-"
                rows, queued_at_end, _ = stored(db, prefix)
                waited, left, failed = drain(db, prefix, args.drain_timeout)
                results.append((bare_result, rounds_result, rows, queued_at_end, waited, left, failed))
                assert bare_result["errors"] == 0, bare_result["statuses"]
                assert rounds_result["errors"] == 0, rounds_result["statuses"]
                assert rows == rounds_result["requests"], f"{rounds_result['requests']} got 202 but {rows} rows stored"
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        rounds_log.close()
        for requests_file in work.glob("*.requests"):
            requests_file.unlink()
    if not any(failed for *_, failed in results):  # otherwise keep rounds.log and the database to look at
        shutil.rmtree(work)
        shutil.rmtree(config.parent)

    print(f"Create(Note) bodies ~{BODY_BYTES} B, rsa-sha256 draft-cavage, {args.connections} connections x "
          f"{args.depth} pipelined, {args.rounds} x {args.seconds:.0f} s per server, servers on core {SERVER_CORE}, "
          f"client on core {CLIENT_CORE}; {load_before} before, {machine_load()} after")
    bare_rates = [r[0]["per_second"] for r in results]
    rounds_rates = [r[1]["per_second"] for r in results]
    for n, (bare_result, rounds_result, rows, queued_at_end, waited, left, failed) in enumerate(results, 1):
        handled = rows - queued_at_end
        print(f"  round {n}: bare {bare_result['per_second']:6.0f}/s p50 {bare_result['p50_ms']:5.1f} ms, "
              f"core {bare_result['server_cpu']:.0%} = {_cpu_ms(bare_result):.2f} ms CPU each | rounds "
              f"{rounds_result['per_second']:6.0f}/s p50 {rounds_result['p50_ms']:5.1f} ms p99 "
              f"{rounds_result['p99_ms']:5.1f} ms, core {rounds_result['server_cpu']:.0%} = "
              f"{_cpu_ms(rounds_result):.2f} ms CPU each, {rows} rows stored = 202s"
              f"{' (RAN OUT of signed requests)' if rounds_result['ran_out'] else ''}; "
              f"inbox worker handled {handled} during the load, the other {queued_at_end} in {waited:.1f} s "
              f"after ({queued_at_end / max(waited, 1e-9):.0f}/s){f', {left} LEFT' if left else ''}"
              f"{f', {failed} FAILED (see {work}/rounds.log)' if failed else ''}")
    bare_rate, rounds_rate = statistics.median(bare_rates), statistics.median(rounds_rates)
    bare_cpu = statistics.median(_cpu_ms(r[0]) for r in results)
    rounds_cpu = statistics.median(_cpu_ms(r[1]) for r in results)
    print(f"bare verify+202 handler : {bare_rate:8.0f} activities/s, {bare_cpu:.2f} ms server CPU each")
    print(f"rounds serve (stored)   : {rounds_rate:8.0f} activities/s, {rounds_cpu:.2f} ms server CPU each")
    print(f"ratio rounds/bare       : {rounds_rate / bare_rate:8.2f}   (target >= 0.50; "
          f"CPU-cost ratio bare/rounds {bare_cpu / rounds_cpu:.2f})")


def _cpu_ms(result: dict) -> float:
    """Server CPU per accepted request, in ms: steadier than the rate on a busy machine."""
    return result["server_cpu"] / result["per_second"] * 1000


if __name__ == "__main__":
    main()
