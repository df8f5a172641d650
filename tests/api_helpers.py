"""Small helpers for client-API tests: tokens and authorised requests."""

from __future__ import annotations

import asyncio

from mastodon import Mastodon

from federation.social.accounts import create_token
from tests.instances import Instance


async def token_for(instance: Instance, username: str, scopes: str = "read write follow", *,
                    create: bool = True, admin: bool = False) -> dict[str, str]:
    if create:
        await instance.add_user(username, admin=admin)
    async with instance.db.sessions.begin() as session:
        token = (await create_token(session, username, scopes)).token
    return {"Authorization": f"Bearer {token}"}


async def mastodon_client(instance: Instance, username: str, password: str = "a long enough password", *,
                          app_name: str = "Rounds test app"):
    """Mastodon.py, the real client library, for `username` (created here): an app registered
    over HTTP and the password grant. Its calls are synchronous: run them with asyncio.to_thread."""
    await instance.add_user(username, password=password)
    client_id, client_secret = await asyncio.to_thread(
        Mastodon.create_app, app_name, scopes=["read", "write", "follow"], api_base_url=instance.base,
        website="https://app.example")
    client = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=instance.base)
    await asyncio.to_thread(client.log_in, username, password, scopes=["read", "write", "follow"], allow_http=True)
    return client
