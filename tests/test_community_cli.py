"""`rounds community create|list|update|moderator`, run as a real process against an instance's
database: what it makes is served, each change is audited as `cli:<login>`, and a refused request
is status 1 with one line."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage import communities as community_queries
from storage.models import AuditEntry, JoinPolicy, PostingPolicy
from storage.actors import actor_by_uri
from tests.cli_helpers import help_text, run_cli
from tests.community_helpers import follow_remote, make_community
from tests.handler_helpers import delivery_rows
from tests.instances import settle


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


async def test_an_update_from_the_shell_reaches_the_members_servers(instances, tmp_path):
    # Given a community on A joined by bob@B
    a = await instances.start("a")
    b = await instances.start("b")
    await a.add_user("alice")
    await b.add_user("bob")
    _, group = await make_community(a, "wound-care", moderators=("alice",))
    await follow_remote(b, "bob", f"wound-care@{a.urls.authority}")
    await settle(a, b)
    # When the admin changes its title from the shell
    changed = await asyncio.to_thread(run_cli, a, tmp_path, "community", "update", "wound-care",
                                      "--title", "Wound & tissue care", "--rule", "Cite sources",
                                      federation='mode = "open"\nallow_private_addresses = true\n')
    assert changed.returncode == 0, changed.stderr
    assert "1 inbox" in changed.stdout
    # Then an Update of the Group is queued for B, and once sent B shows the new title
    [(inbox, update)] = await delivery_rows(a, "Update")
    assert inbox.startswith(b.base) and update["object"]["type"] == "Group"
    for instance in (a, b):  # the shell queued it at the wall clock's time
        instance.clock.advance(minutes=1)
    await settle(a, b)
    async with b.db.sessions() as session:
        assert (await actor_by_uri(session, group.uri)).display_name == "Wound & tissue care"
