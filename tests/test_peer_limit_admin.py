"""Limiting a peer from every admin door: `rounds peers limit`, the admin API's domain blocks of
severity `silence`, and Mastodon's domain-block CSV (`silence` rows), from the shell and from the
admin pages, through the same federation calls as allowing and blocking."""

from __future__ import annotations

import re

import aiohttp
from sqlalchemy import select

from storage.models import AuditEntry, Peer
from tests.api_helpers import token_for
from tests.cli_helpers import run_cli
from tests.web_helpers import browser_like, sign_in

MASTODON_BLOCKS = """#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
spam.example,suspend,true,true,Spam,false
noisy.example,silence,false,false,Too noisy,false
*.chatty.example,silence,false,false,,false
quiet.example,noop,false,false,,false
"""


async def _states(instance) -> dict[str, str]:
    async with instance.db.sessions() as session:
        return {p.domain: p.state.value for p in await session.scalars(select(Peer))}


async def _audit(instance) -> list[AuditEntry]:
    async with instance.db.sessions() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def test_rounds_peers_limit_limits_lists_and_audits(instances, tmp_path):
    # Given an instance in allowlist mode
    a = await instances.start(federation={"mode": "allowlist"})

    def rounds(*args: str):
        return run_cli(a, tmp_path, *args)

    # When the admin limits a peer from the shell, with a reason
    help_text = rounds("peers", "limit", "--help").stdout
    assert "federated and hashtag timelines" in help_text and "--reason" in help_text
    assert "limit" in rounds("peers", "--help").stdout
    done = rounds("peers", "limit", "Noisy.Example", "--reason", "too noisy")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "noisy.example is now limited."
    # Then the peer is limited, and federates as an allowed one
    assert await _states(a) == {"noisy.example": "limited"}
    await a.fed.reload_policy()
    assert a.fed.policy.allows("noisy.example")
    # And the listing shows it with its state, alone when asked for the limited ones
    rounds("peers", "allow", "chu-b.example")
    listed = rounds("peers", "list").stdout
    assert re.search(r"^noisy\.example\s+limited\s+admin\b.*too noisy$", listed, re.M), listed
    limited = rounds("peers", "list", "--state", "limited").stdout
    assert "noisy.example" in limited and "chu-b.example" not in limited
    assert re.search(r"^state:\s+limited$", rounds("peers", "show", "noisy.example").stdout, re.M)
    # And the audit log names who, the state before and after, and why
    [entry, _] = await _audit(a)
    assert (entry.action, entry.subject, entry.before, entry.after["state"], entry.reason) == (
        "peer.limited", "noisy.example", None, "limited", "too noisy")
    assert entry.actor.startswith("cli:")
    line = rounds("audit", "--subject", "noisy.example").stdout
    assert "peer.limited" in line and "- -> limited" in line and "(too noisy)" in line
    # And a bad entry is one line, no traceback
    bad = rounds("peers", "limit", "*.127.0.0.1")
    assert bad.returncode == 1 and "never match" in bad.stderr and "Traceback" not in bad.stderr


async def test_admin_api_domain_block_of_severity_silence_is_a_limit(instances, http):
    # Given an admin's token, and a reader's
    a = await instances.start(federation={"mode": "allowlist"})
    admin = await token_for(a, "root", "admin:read admin:write", admin=True)
    reader = await token_for(a, "auditor", "admin:read", admin=True)
    api = f"{a.base}/api/v1/admin"
    # When the admin posts a domain block of severity silence
    async with http.post(f"{api}/domain_blocks", headers=admin, data={
            "domain": "noisy.example", "severity": "silence", "public_comment": "too noisy"}) as r:
        assert r.status == 200, await r.text()
        limit = await r.json()
    # Then the peer is limited, in effect at once, and the entity is Mastodon's
    assert await _states(a) == {"noisy.example": "limited"}
    assert a.fed.policy.allows("noisy.example")
    assert set(limit) == {"id", "domain", "digest", "created_at", "severity", "reject_media", "reject_reports",
                          "private_comment", "public_comment", "obfuscate"}
    assert (limit["severity"], limit["reject_media"], limit["reject_reports"], limit["public_comment"]) == (
        "silence", False, False, "too noisy")
    # And a suspend is a block, listed with the limit, each with its severity
    async with http.post(f"{api}/domain_blocks", json={"domain": "spam.example"}, headers=admin) as r:
        block = await r.json()
    assert block["severity"] == "suspend" and block["reject_media"] is True
    assert not a.fed.policy.allows("spam.example")
    async with http.get(f"{api}/domain_blocks", headers=reader) as r:
        assert {d["domain"]: d["severity"] for d in await r.json()} == {
            "noisy.example": "silence", "spam.example": "suspend"}
    async with http.get(f"{api}/domain_blocks/{limit['id']}", headers=reader) as r:
        assert (await r.json())["severity"] == "silence"
    # And a limited peer is no domain allow
    async with http.get(f"{api}/domain_allows", headers=reader) as r:
        assert await r.json() == []
    async with http.get(f"{api}/domain_allows/{limit['id']}", headers=reader) as r:
        assert r.status == 404
    # When the admin changes the limit's severity to suspend, Then it is a block; and back
    async with http.put(f"{api}/domain_blocks/{limit['id']}", json={"severity": "suspend"}, headers=admin) as r:
        assert (await r.json())["severity"] == "suspend"
    assert not a.fed.policy.allows("noisy.example")
    async with http.put(f"{api}/domain_blocks/{limit['id']}", json={"severity": "silence"}, headers=admin) as r:
        assert (await r.json())["severity"] == "silence"
    assert a.fed.policy.allows("noisy.example")
    # And a PUT without a severity keeps the block's own
    async with http.put(f"{api}/domain_blocks/{limit['id']}", json={"public_comment": "still noisy"},
                        headers=admin) as r:
        assert ((await r.json())["severity"], (await r.json())["public_comment"]) == ("silence", "still noisy")
    # And an unknown severity changes nothing
    async with http.post(f"{api}/domain_blocks", json={"domain": "x.example", "severity": "noop"},
                         headers=admin) as r:
        assert r.status == 422 and "severity" in (await r.json())["error"]
    assert "x.example" not in await _states(a)
    # When the admin deletes the limit, Then the peer is forgotten
    async with http.delete(f"{api}/domain_blocks/{limit['id']}", headers=admin) as r:
        assert r.status == 200
    assert await _states(a) == {"spam.example": "blocked"}
    assert not a.fed.policy.allows("noisy.example")
    # And every change is audited as the admin's
    assert [(e.actor, e.action) for e in await _audit(a)] == [
        ("api:root", "peer.limited"), ("api:root", "peer.blocked"), ("api:root", "peer.blocked"),
        ("api:root", "peer.limited"), ("api:root", "peer.limited"), ("api:root", "peer.remove")]


async def test_mastodon_csv_silence_is_a_limit_both_ways_from_the_shell_and_the_pages(instances, tmp_path):
    # Given a Mastodon domain-block CSV with a suspend, two silences and a noop
    a = await instances.start()
    b = await instances.start("b")
    blocks = tmp_path / "blocks.csv"
    blocks.write_text(MASTODON_BLOCKS)
    # When A's admin imports it from the shell
    done = run_cli(a, tmp_path, "peers", "import", str(blocks))
    assert done.returncode == 0, done.stderr
    # Then silence is a limit, suspend a block, and noop is skipped
    expected = {"spam.example": "blocked", "noisy.example": "limited", "*.chatty.example": "limited"}
    assert await _states(a) == expected
    # When A exports its domain blocks, Then both are there, each with its severity and reason
    exported = run_cli(a, tmp_path, "peers", "export", "--state", "blocked").stdout
    rows = exported.splitlines()
    assert rows[0] == "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
    assert sorted(rows[1:]) == ["*.chatty.example,silence,false,false,,false",
                                "noisy.example,silence,false,false,Too noisy,false",
                                "spam.example,suspend,true,true,Spam,false"]
    # And the admin pages download the very same file
    await a.add_user("root", admin=True)
    await b.add_user("root", admin=True)
    async with browser_like() as root_a, browser_like() as root_b:
        await sign_in(root_a, a.base, "root")
        async with root_a.get(f"{a.base}/admin/peers/export?state=blocked") as response:
            assert response.status == 200
            downloaded = await response.text()
        assert downloaded == exported
        # When B's admin uploads it on the pages, Then B holds the same decisions
        await sign_in(root_b, b.base, "root")
        page = await (await root_b.get(f"{b.base}/admin/peers")).text()
        form = aiohttp.FormData()
        form.add_field("csrf_token", re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))
        form.add_field("file", downloaded.encode(), filename="a-blocked.csv", content_type="text/csv")
        async with root_b.post(f"{b.base}/admin/peers/import", data=form, allow_redirects=False) as response:
            assert response.status == 303
    assert await _states(b) == expected
    assert {e.subject: e.action for e in await _audit(b)} == {
        "spam.example": "peer.blocked", "noisy.example": "peer.limited", "*.chatty.example": "peer.limited"}
    async with b.db.sessions() as session:
        assert (await session.scalar(select(Peer).where(Peer.domain == "noisy.example"))).note == "Too noisy"
