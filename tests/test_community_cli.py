"""`rounds community create|list|update|moderator`, run as a real process against an instance's
database: what it makes is served, each change is audited as `cli:<login>`, and a refused request
is status 1 with one line."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage import communities as community_queries
from storage.models import AuditEntry, JoinPolicy, PostingPolicy
from tests.cli_helpers import help_text, run_cli


async def test_an_admin_makes_and_changes_a_community_from_the_shell(instances, tmp_path, http):
    a = await instances.start()
    await a.add_user("alice")
    await a.add_user("bob")

    async def rounds(*args: str):
        return await asyncio.to_thread(run_cli, a, tmp_path, "community", *args)

    # When the admin makes an approval community moderated by alice
    made = await rounds("create", "wound-care", "--title", "Wound care", "--approval", "--moderator", "alice",
                        "--rule", "No patient data")
    assert made.returncode == 0, made.stderr
    assert "@wound-care@" in made.stdout
    # Then it is served as a Group
    async with http.get(f"{a.base}/users/wound-care", headers={"Accept": "application/activity+json"}) as r:
        document = await r.json(content_type=None)
    assert document["type"] == "Group" and document["manuallyApprovesFollowers"] is True
    # And listed
    listed = await rounds("list")
    [row] = [line for line in listed.stdout.splitlines() if line.startswith("wound-care")]
    assert "approval" in row and "members" in row and "federated" in row and "alice" in row

    # When it becomes an institution-only announcement channel, and bob a moderator
    changed = await rounds("update", "wound-care", "--invite", "--moderators-only-posting", "--institution-only")
    assert changed.returncode == 0, changed.stderr
    assert (await rounds("moderator", "add", "wound-care", "bob")).returncode == 0
    assert (await rounds("moderator", "remove", "wound-care", "alice")).returncode == 0
    group = await a.actor("wound-care")
    async with a.db.sessions() as session:
        community = await community_queries.community_of(session, group.id)
        moderators = [m.username for m in await community_queries.moderators(session, group.id)]
        actions = [e.action for e in await session.scalars(
            select(AuditEntry).where(AuditEntry.subject == group.uri).order_by(AuditEntry.id))]
        creator = await session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "community.create"))
    assert (community.join_policy, community.posting, community.local_only) == (
        JoinPolicy.invite, PostingPolicy.moderators, True)
    assert moderators == ["bob"]
    assert actions == ["community.create", "community.update", "community.moderator.add",
                       "community.moderator.remove"]
    assert creator.startswith("cli:")

    # And refusals are one line with status 1
    for args, message in ((("moderator", "remove", "wound-care", "bob"), "last moderator"),
                          (("create", "wound-care"), "taken"),
                          (("create", "bad-"), "invalid community name"),
                          (("create", "x", "--moderator", "nobody"), "no user named"),
                          (("update", "nothing-here", "--open"), "no community named")):
        refused = await rounds(*args)
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and message in refused.stderr, args
    # And a refused create wrote nothing
    async with a.db.sessions() as session:
        assert len(await community_queries.communities(session, include_local_only=True)) == 1


def test_help_for_the_community_commands():
    for args in (["community"], ["community", "create"], ["community", "list"], ["community", "update"],
                 ["community", "moderator"], ["community", "moderator", "add"], ["community", "moderator", "remove"]):
        assert "usage:" in help_text(*args)
    assert "--institution-only" in help_text("community", "create")
    assert "--moderators-only-posting" in help_text("community", "create")
