"""`rounds announcement ...` and `rounds emoji ...`, run as real processes against a running
instance: what they make is what apps then read, each change is audited as `cli:<login>`, and a
refusal is status 1 with one line."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select

from storage.models import AuditEntry
from tests.api_helpers import token_for
from tests.cli_helpers import help_text, run_cli
from tests.test_api_startup import png


async def test_an_admin_announces_and_adds_emojis_from_the_shell(instances, http, tmp_path):
    a = await instances.start()
    alice = await token_for(a, "alice")

    async def rounds(*args: str):
        return await asyncio.to_thread(run_cli, a, tmp_path, *args)

    # When the admin announces something from the shell
    made = await rounds("announcement", "create", "Fire drill at noon", "--ends-at", "2999-01-01T12:00:00Z")
    assert made.returncode == 0, made.stderr
    announcement_id = re.search(r"Announcement (\d+)", made.stdout).group(1)
    # Then apps show it
    async with http.get(f"{a.base}/api/v1/announcements", headers=alice) as r:
        [shown] = await r.json()
    assert shown["id"] == announcement_id and shown["content"] == "<p>Fire drill at noon</p>"
    assert shown["ends_at"] == "2999-01-01T12:00:00.000Z"
    assert announcement_id in (await rounds("announcement", "list")).stdout
    # a bad time is refused by the parser; an announcement that ends before it starts by the rules
    refused = await rounds("announcement", "create", "x", "--starts-at", "2030-01-02T00:00:00Z",
                           "--ends-at", "2030-01-01T00:00:00Z")
    assert refused.returncode == 1 and "cannot end before it starts" in refused.stderr
    assert (await rounds("announcement", "create", "x", "--ends-at", "soon")).returncode == 2

    # When the admin adds an emoji from an image file
    image = tmp_path / "hands.png"
    image.write_bytes(png())
    added = await rounds("emoji", "add", "handwash", str(image), "--category", "hygiene")
    assert added.returncode == 0, added.stderr
    # Then apps list it, and its image is served
    async with http.get(f"{a.base}/api/v1/custom_emojis") as r:
        [emoji] = await r.json()
    assert (emoji["shortcode"], emoji["category"]) == ("handwash", "hygiene")
    async with http.get(emoji["url"]) as r:
        assert r.status == 200
    assert ":handwash:" in (await rounds("emoji", "list")).stdout
    # the same shortcode twice, or a file that is no image, is refused with one line
    again = await rounds("emoji", "add", "handwash", str(image))
    assert again.returncode == 1 and "already an emoji :handwash:" in again.stderr
    (tmp_path / "notes.txt").write_text("hello")
    assert (await rounds("emoji", "add", "notes", str(tmp_path / "notes.txt"))).returncode == 1
    missing = await rounds("emoji", "add", "ghost", str(tmp_path / "nothing.png"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr

    # When both are removed, apps see neither
    assert (await rounds("emoji", "remove", ":handwash:")).returncode == 0
    assert (await rounds("announcement", "remove", announcement_id)).returncode == 0
    assert (await rounds("announcement", "remove", announcement_id)).returncode == 1
    async with http.get(f"{a.base}/api/v1/custom_emojis") as r:
        assert await r.json() == []
    async with http.get(f"{a.base}/api/v1/announcements", headers=alice) as r:
        assert await r.json() == []
    # And each change is in the audit log, as the shell's user
    async with a.db.sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(e.action, e.actor.startswith("cli:")) for e in entries] == [
        ("announcement.create", True), ("emoji.add", True), ("emoji.remove", True), ("announcement.remove", True)]


def test_every_notice_command_explains_itself():
    for command in (("announcement",), ("announcement", "create"), ("announcement", "list"),
                    ("announcement", "remove"), ("emoji",), ("emoji", "add"), ("emoji", "list"), ("emoji", "remove")):
        assert "usage: rounds " + " ".join(command) in help_text(*command)
