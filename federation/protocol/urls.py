"""Where local things live. Actor ids are fixed by `public_url`; this is the only place that
builds local URLs, so routes and documents cannot drift apart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

INSTANCE_ACTOR_USERNAME = "rounds.internal"
COMMUNITY_PAGES = "/communities"  # the directory; /communities/NAME is a community's page, its Group's url
_DEFAULT_PORTS = {"https": 443, "http": 80}
# http(s)://host[:port], then / ? # or the end, with nothing in it that needs urlsplit (userinfo,
# brackets, zone ids, tabs or line breaks); anything else goes through urlsplit.
_PLAIN_AUTHORITY = re.compile(r"(?P<scheme>https?)://(?P<host>[^/?#@:\[\]%\t\r\n]+)(?::(?P<port>[0-9]{1,5}))?"
                              r"(?=[/?#]|\Z)")


def authority(uri: str) -> str:
    """host[:port] of a URI, lowercase, with the port only when it is not the scheme's default."""
    plain = _PLAIN_AUTHORITY.match(uri)
    if plain is not None and int(plain["port"] or 0) <= 65535:
        scheme, host, port = plain.groups()
        port = None if port is None else int(port)
    else:
        parts = urlsplit(uri)
        scheme, host, port = parts.scheme, parts.hostname or "", parts.port
        if ":" in host:
            host = f"[{host}]"
    host = host.lower()
    return host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"


@dataclass(frozen=True)
class LocalUrls:
    base: str  # e.g. https://social.chu-example.org, no trailing slash

    @cached_property  # read on every signed request
    def authority(self) -> str:
        return urlsplit(self.base).netloc

    @property
    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    def actor(self, username: str) -> str:
        if username == INSTANCE_ACTOR_USERNAME:
            return self.instance_actor
        return f"{self.base}/users/{username}"

    def key_id(self, username: str) -> str:
        return f"{self.actor(username)}#main-key"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def moderators(self, username: str) -> str:
        return f"{self.actor(username)}/moderators"

    def featured(self, username: str) -> str:
        return f"{self.actor(username)}/collections/featured"

    def profile(self, username: str) -> str:
        if username == INSTANCE_ACTOR_USERNAME:
            return f"{self.base}/about"
        return f"{self.base}/@{username}"

    def emoji(self, emoji_id: int) -> str:
        """One of our custom emojis' document (its Emoji tag's id)."""
        return f"{self.base}/emojis/{emoji_id}"

    def community_page(self, name: str) -> str:
        """A community's page: its Group's profile (`url`)."""
        return f"{self.base}{COMMUNITY_PAGES}/{name}"

    def status(self, username: str, object_id: int) -> str:
        return f"{self.actor(username)}/statuses/{object_id}"

    def status_activity(self, username: str, object_id: int) -> str:
        return f"{self.status(username, object_id)}/activity"

    def acct(self, username: str) -> str:
        return f"acct:{username}@{self.authority}"
