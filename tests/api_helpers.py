"""Small helpers for client-API tests: tokens and authorised requests."""

from __future__ import annotations

from federation.social.accounts import create_token
from tests.instances import Instance


async def token_for(instance: Instance, username: str, scopes: str = "read write follow", *,
                    create: bool = True, admin: bool = False) -> dict[str, str]:
    if create:
        await instance.add_user(username, admin=admin)
    async with instance.db.sessions.begin() as session:
        token = (await create_token(session, username, scopes)).token
    return {"Authorization": f"Bearer {token}"}
