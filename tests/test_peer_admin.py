"""Peer administration: CSV import/export, subscriptions, the admin API, the CLI and the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from federation.peers import decisions
from federation.social.accounts import create_token
from federation.peers.subscriptions import refresh, subscribe
from storage.models import AuditEntry, Peer, PeerState
from tests.cli_helpers import run_cli
from tests.fakepeer import FakePeer

MASTODON_BLOCKS = """#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
spam.example,suspend,true,true,Spam,false
ads.example,silence,false,false,,false
"""


async def _states(instance) -> dict[str, str]:
    async with instance.db.sessions() as session:
        return {p.domain: p.state.value for p in await session.scalars(select(Peer))}


async def test_import_with_one_bad_line_applies_nothing_and_names_it(instances):
    a = await instances.start()
    bad = "good.example\nchu-b.example:8443\nnot a domain\n"
    with pytest.raises(decisions.PeerError, match="line 3"):
        decisions.parse_list(bad, source="allows.txt")
    with pytest.raises(decisions.PeerError, match="line 2: unknown severity 'limit'"):
        decisions.parse_list("#domain,#severity\nx.example,limit\n", source="blocks.csv")
    assert await _states(a) == {}


async def test_export_then_reimport_gives_the_same_set(instances):
    a = await instances.start()
    async with a.db.sessions.begin() as session:
        await decisions.import_entries(session, decisions.parse_list(MASTODON_BLOCKS), by="test", at=a.clock.now(), reason="")
        await decisions.import_entries(session, decisions.parse_list("#domain\nchu-b.example\n*.chu-c.example\n"), by="test",
                                   at=a.clock.now(), reason="")
        exported = {state: await decisions.export_csv(session, state) for state in (PeerState.allowed, PeerState.blocked)}
    assert exported[PeerState.blocked].splitlines()[0] == ",".join(decisions.MASTODON_BLOCK_HEADER)
    before = await _states(a)
    assert before == {"spam.example": "blocked", "ads.example": "limited", "chu-b.example": "allowed",
                      "*.chu-c.example": "allowed"}
    b = await instances.start("b")
    async with b.db.sessions.begin() as session:
        for text in exported.values():
            await decisions.import_entries(session, decisions.parse_list(text), by="test", at=b.clock.now(), reason="")
    assert await _states(b) == before


async def test_subscription_adds_then_follows_the_list(instances):
    # Given a consortium list served on loopback, and one peer an admin decided by hand
    a = await instances.start(federation={"mode": "allowlist"})
    lists = await FakePeer().start()
    try:
        url = lists.serve("/members.txt", "chu-b.example\nchu-c.example\nchu-d.example\n")
        async with a.db.sessions.begin() as session:
            await decisions.decide(session, "chu-d.example", PeerState.blocked, by="cli:admin", at=a.clock.now())
            subscription = await subscribe(session, url, review=False, by="cli:admin", at=a.clock.now())
        flags = {"allow_http": True, "allow_private": True}

        # When it is refreshed, Then new members are allowed; the admin's block stands
        changes = await refresh(a.db, a.fed.http, subscription.id, at=a.clock.now(), **flags)
        assert sorted(changes.added) == ["chu-b.example", "chu-c.example"]
        assert await _states(a) == {"chu-b.example": "allowed", "chu-c.example": "allowed", "chu-d.example": "blocked"}

        # When a later version drops C and adds E, Then exactly those change
        lists.serve("/members.txt", "chu-b.example\nchu-d.example\nchu-e.example\n")
        changes = await refresh(a.db, a.fed.http, subscription.id, at=a.clock.now(), **flags)
        assert (changes.added, changes.dropped) == (["chu-e.example"], ["chu-c.example"])
        assert await _states(a) == {"chu-b.example": "allowed", "chu-d.example": "blocked", "chu-e.example": "allowed"}

        # And every change is audited as the subscription's
        async with a.db.sessions() as session:
            log = [(e.actor, e.action, e.subject) for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        by = f"subscription:{url}"
        assert log == [
            ("cli:admin", "peer.blocked", "chu-d.example"), ("cli:admin", "subscription.add", url),
            (by, "peer.allowed", "chu-b.example"), (by, "peer.allowed", "chu-c.example"),
            (by, "peer.allowed", "chu-e.example"), (by, "peer.remove", "chu-c.example"),
        ]
    finally:
        await lists.stop()


async def test_review_subscription_adds_pending(instances):
    a = await instances.start()
    lists = await FakePeer().start()
    try:
        url = lists.serve("/members.txt", "chu-b.example\n")
        async with a.db.sessions.begin() as session:
            subscription = await subscribe(session, url, review=True, by="cli:admin", at=a.clock.now())
        await refresh(a.db, a.fed.http, subscription.id, at=a.clock.now(), allow_http=True, allow_private=True)
        assert await _states(a) == {"chu-b.example": "pending"}
    finally:
        await lists.stop()


async def _token(instance, username: str, scopes: str, *, admin: bool) -> str:
    await instance.add_user(username, admin=admin)
    async with instance.db.sessions.begin() as session:
        return (await create_token(session, username, scopes)).token


async def test_admin_api_domain_allows_and_blocks(instances, http):
    a = await instances.start(federation={"mode": "allowlist"})
    admin = {"Authorization": f"Bearer {await _token(a, 'root', 'admin:read admin:write', admin=True)}"}
    reader = {"Authorization": f"Bearer {await _token(a, 'auditor', 'admin:read', admin=True)}"}
    user = {"Authorization": f"Bearer {await _token(a, 'dana', 'read write', admin=False)}"}
    api = f"{a.base}/api/v1/admin"

    async with http.post(f"{api}/domain_allows", json={"domain": "chu-b.example"}, headers=admin) as r:
        assert r.status == 200
        allow = await r.json()
    assert allow["domain"] == "chu-b.example" and set(allow) == {"id", "domain", "created_at"}
    assert a.fed.policy.allows("chu-b.example")  # in effect at once
    async with http.post(f"{api}/domain_blocks", data={"domain": "spam.example", "severity": "suspend",
                                                       "public_comment": "spam"}, headers=admin) as r:
        block = await r.json()
    assert block["severity"] == "suspend" and block["public_comment"] == "spam"
    async with http.get(f"{api}/domain_allows", headers=reader) as r:
        assert [d["domain"] for d in await r.json()] == ["chu-b.example"]
    async with http.get(f"{api}/domain_blocks/{block['id']}", headers=reader) as r:
        assert (await r.json())["domain"] == "spam.example"
    async with http.delete(f"{api}/domain_allows/{allow['id']}", headers=admin) as r:
        assert r.status == 200
    assert not a.fed.policy.allows("chu-b.example")

    # refusals: scope, role, token, validation
    async with http.post(f"{api}/domain_allows", json={"domain": "x.example"}, headers=reader) as r:
        assert r.status == 403 and "scopes" in (await r.json())["error"]
    async with http.get(f"{api}/domain_allows", headers=user) as r:
        assert r.status == 403
    async with http.get(f"{api}/domain_allows", headers={"Authorization": "Bearer nope"}) as r:
        assert r.status == 401
    async with http.post(f"{api}/domain_allows", json={"domain": "not a domain"}, headers=admin) as r:
        assert r.status == 422
    async with a.db.sessions() as session:
        actors = [e.actor for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actors == ["api:root"] * 3


async def test_peers_cli(instances, tmp_path):
    a = await instances.start()

    def _run(*args: str):
        return run_cli(a, tmp_path, *args)

    assert _run("peers", "allow", "127.0.0.2:8082", "--note", "CHU B").returncode == 0
    assert _run("peers", "block", "spam.example", "--note", "spam").returncode == 0
    listed = _run("peers", "list").stdout
    assert "127.0.0.2:8082" in listed and "allowed" in listed and "spam.example" in listed
    assert "spam.example" not in _run("peers", "list", "--state", "allowed").stdout
    exported = _run("peers", "export", "--state", "blocked").stdout
    assert exported.startswith("#domain,#severity") and "spam.example,suspend" in exported
    bad = tmp_path / "bad.txt"
    bad.write_text("ok.example\nnot valid!\n")
    result = _run("peers", "import", str(bad))
    assert result.returncode == 1 and "line 2" in result.stderr and "Traceback" not in result.stderr
    assert "ok.example" not in _run("peers", "list").stdout
    assert _run("peers", "remove", "spam.example").returncode == 0
    audit = _run("audit").stdout.splitlines()
    assert len(audit) == 3 and "peer.allowed" in audit[0] and "-> allowed" in audit[0] and "CHU B" in audit[0]
    assert "peer.remove" in audit[2] and "blocked -> -" in audit[2]
