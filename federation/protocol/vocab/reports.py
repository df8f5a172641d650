"""Flag: a report sent to the server of the account it is about (as Mastodon sends it: from the
reporting instance's actor, naming the account and its posts, with the comment as `content`)."""

from __future__ import annotations

from typing import Any

from federation.protocol.vocab.context import AS_CONTEXT


def flag_to_ap(flag_id: str, actor_uri: str, named: list[str], comment: str) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, "id": flag_id, "type": "Flag", "actor": actor_uri, "object": named,
            "content": comment}
