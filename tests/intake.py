"""Putting an activity straight into the inbox queue, past the intake checks.

Some guards stand twice: once at intake (`federation.inbox.intake`) and again in the worker's handler,
for rows that were stored before a check existed or by a version without it. To show that the
second one holds on its own, a test stores the row the way intake would have, and runs the
worker.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from storage.ids import new_id
from storage.models import InboxItem
from tests.instances import Instance


async def store_unchecked(instance: Instance, activity: dict[str, Any], *, key_id: str | None = None) -> None:
    """Queue `activity` as intake would once every check had passed (none is run here)."""
    row = {
        "id": new_id(), "activity_uri": activity["id"], "activity_type": str(activity.get("type")),
        "actor_uri": activity["actor"], "signer_key_id": key_id or f"{activity['actor']}#main-key",
        "recipient_id": None, "raw": json.dumps(activity),
    }
    assert await instance.fed.inbox_writer.submit(row)


async def inbox_item(instance: Instance, activity_id: str) -> InboxItem:
    async with instance.db.sessions() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == activity_id))
    assert item is not None, f"{activity_id} was not recorded"
    return item
