"""`rounds invite create|list|revoke`, run as a real process against a running instance: the
link it prints lets a newcomer sign up, the list shows uses, a revoked link is refused, each
change is audited as `cli:<login>`, and a refused request is status 1 with one line."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select

from storage.models import AuditEntry
from tests.cli_helpers import help_text, run_cli
from tests.test_cli import run
from tests.web_helpers import PASSWORD, browser_like, submit


async def test_an_admin_invites_from_the_shell_lists_and_revokes(instances, tmp_path):
    a = await instances.start()

    async def rounds(*args: str):
        return await asyncio.to_thread(run_cli, a, tmp_path, "invite", *args)

    # When the admin makes an invitation from the shell
    made = await rounds("create", "--max-uses", "2", "--expires-days", "30", "--note", "for the night shift")
    assert made.returncode == 0, made.stderr
    [link] = re.findall(rf"{re.escape(a.base)}/auth/invite/\S+", made.stdout)
    invitation_id = re.search(r"Invitation (\d+)", made.stdout).group(1)
    # Then a newcomer signs up with its link
    async with browser_like() as newcomer:
        response = await submit(newcomer, a.base, link.removeprefix(a.base), token_from="/auth/sign_in",
                                username="nurse", password=PASSWORD, password_confirmation=PASSWORD)
        assert response.status == 303 and response.headers["Location"] == "/home"
    # And the list shows it with one of its two uses, who made it and the note
    listed = await rounds("list")
    assert listed.returncode == 0
    [row] = [line for line in listed.stdout.splitlines() if line.startswith(invitation_id)]
    assert " 1/2 " in row and "cli:" in row and link in row and "for the night shift" in row
    # When it is revoked, Then the list is empty and the link refused
    revoked = await rounds("revoke", invitation_id, "--reason", "shift filled")
    assert revoked.returncode == 0 and "Revoked" in revoked.stdout
    assert "No live invitations" in (await rounds("list")).stdout
    async with browser_like() as late:
        async with late.get(link) as page:
            assert page.status == 410
    # And each change is in the audit log, as the shell's user
    async with a.db.sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.subject == f"invite:{invitation_id}")
                                             .order_by(AuditEntry.id)))
    assert [entry.action for entry in entries] == ["invite.create", "invite.use", "invite.revoke"]
    assert entries[0].actor.startswith("cli:") and entries[2].reason == "shift filled"
    # And an unknown id or a bad number is refused with one line
    unknown = await rounds("revoke", "12345")
    assert unknown.returncode == 1 and unknown.stderr.count("\n") == 1 and "no invitation 12345" in unknown.stderr
    bad = await rounds("create", "--max-uses", "0")
    assert bad.returncode == 2


def test_help_for_the_invite_commands():
    for args in (["invite"], ["invite", "create"], ["invite", "list"], ["invite", "revoke"]):
        assert "usage: rounds invite" in help_text(*args), args
    assert all(option in help_text("invite", "create")
               for option in ("--expires-days", "--max-uses", "--note"))
