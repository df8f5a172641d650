"""Actors as peers describe them: `ap_to_actor` reads a Person, Service, Application, Group or
Organization into an APActor (its key, inboxes, profile: name, bio, avatar, header, fields,
aliases), and `ap_to_key_document` reads what a key id fetches. Lenient about shapes, strict
about identity, as the rest of the vocabulary (federation.protocol.vocab.parse, which embeds
actors in activities with this)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from federation.protocol.vocab.values import (
    UNSUPPORTED,
    VocabError,
    as_list,
    id_of,
    is_uri,
    parse_datetime,
    shown,
    type_of,
    uri_or_none,
)
from federation.protocol.vocab.values import html_url as _url
from federation.protocol.vocab.values import required_uri as _required_uri
from federation.protocol.vocab.values import text_of as _text

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
MAX_USERNAME_CHARS = 255
MAX_FIELDS = 16  # an actor's profile fields kept (Mastodon lets its users have 4)
MAX_FIELD_CHARS = 2048  # of a field's name or value
# a remote username as Mastodon takes it: shown in handles (@name@host) and written to exports,
# so nothing that could pass for another handle (an @), markup or a spreadsheet formula
USERNAME_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")


@dataclass(frozen=True)
class PublicKey:
    id: str
    owner: str
    pem: str


@dataclass(frozen=True)
class APActor:
    id: str
    type: str
    preferred_username: str
    name: str
    summary: str
    inbox: str
    outbox: str | None
    shared_inbox: str | None
    followers: str | None
    following: str | None
    featured: str | None
    url: str | None
    public_key: PublicKey
    manually_approves_followers: bool
    discoverable: bool
    published: datetime | None
    raw: dict[str, Any] = field(repr=False)
    icon: str | None = None  # the avatar's URL
    image: str | None = None  # the header's URL
    fields: tuple[tuple[str, str], ...] = ()  # profile metadata (PropertyValue): (name, value as sent: HTML)
    also_known_as: tuple[str, ...] = ()  # its aliases: accounts it says it was (a Move's target names its source)


def _image_url(value: Any) -> str | None:
    """The URL of an actor's `icon` or `image`: an Image (its `url` a string, a Link or a list of
    them), a list of Images (the first with one), or a bare URL."""
    for image in as_list(value):
        for candidate in as_list(image.get("url")) if isinstance(image, dict) else [image]:
            uri = id_of(candidate)
            if is_uri(uri):
                return uri
    return None


def _profile_fields(document: dict) -> tuple[tuple[str, str], ...]:
    """An actor's PropertyValue attachments (Mastodon's profile metadata), the first MAX_FIELDS,
    each name and value cut to MAX_FIELD_CHARS."""
    found = []
    for entry in as_list(document.get("attachment")):
        if isinstance(entry, dict) and type_of(entry.get("type"), {"PropertyValue"}) == "PropertyValue" \
                and isinstance(entry.get("name"), str) and isinstance(entry.get("value"), str):
            found.append((entry["name"][:MAX_FIELD_CHARS], entry["value"][:MAX_FIELD_CHARS]))
    return tuple(found[:MAX_FIELDS])


def ap_to_actor(document: Any) -> APActor:
    if not isinstance(document, dict):
        raise VocabError("an actor must be a JSON object")
    kind = type_of(document.get("type"), ACTOR_TYPES)
    if kind == UNSUPPORTED:
        raise VocabError(f"unsupported actor type {shown(document.get('type'))}")
    actor_id = _required_uri(document, "id", kind)
    key = document.get("publicKey")
    key = key[0] if isinstance(key, list) and key else key
    if not isinstance(key, dict) or not isinstance(key.get("publicKeyPem"), str):
        raise VocabError(f"actor {actor_id} has no publicKey")
    key_id = _required_uri(key, "id", "publicKey")
    endpoints = document.get("endpoints") if isinstance(document.get("endpoints"), dict) else {}
    shared = id_of(endpoints.get("sharedInbox"))
    username = document.get("preferredUsername")
    username = username if isinstance(username, str) and username else actor_id.rstrip("/").rsplit("/", 1)[-1]
    if len(username) > MAX_USERNAME_CHARS:
        raise VocabError(f"actor {actor_id} has a username longer than {MAX_USERNAME_CHARS} characters")
    if not USERNAME_RE.fullmatch(username):
        raise VocabError(f"actor {actor_id} has a username that is not letters, digits, '_', '.' and '-': "
                         f"{shown(username)}")
    return APActor(
        id=actor_id,
        type=kind,
        preferred_username=username,
        name=_text(document.get("name")),
        summary=_text(document.get("summary")),
        inbox=_required_uri(document, "inbox", kind),
        outbox=uri_or_none(document.get("outbox")),
        shared_inbox=shared if is_uri(shared) else None,
        followers=uri_or_none(document.get("followers")),
        following=uri_or_none(document.get("following")),
        featured=uri_or_none(document.get("featured")),
        url=_url(document),
        public_key=PublicKey(key_id, actor_id if key.get("owner") is None else _required_uri(key, "owner", "publicKey"),
                             key["publicKeyPem"]),
        manually_approves_followers=bool(document.get("manuallyApprovesFollowers")),
        discoverable=bool(document.get("discoverable", False)),
        published=parse_datetime(document.get("published")),
        raw=document,
        icon=_image_url(document.get("icon")),
        image=_image_url(document.get("image")),
        fields=_profile_fields(document),
        also_known_as=tuple(uri for uri in map(id_of, as_list(document.get("alsoKnownAs"))) if is_uri(uri))[:MAX_FIELDS],
    )


@dataclass(frozen=True)
class APKeyDocument:
    """What a fetched key document says of its owner. A key id either fetches the actor itself
    (Mastodon's `.../users/x#main-key`) or a stub naming its owner (GoToSocial's `.../main-key`)."""

    owner: str | None  # publicKey.owner, or the stub's own `owner`
    is_owner: bool  # the document is the actor: it names no owner, or names itself and has an inbox


def ap_to_key_document(document: dict) -> APKeyDocument:
    key = document.get("publicKey")
    key = key[0] if isinstance(key, list) and key else key
    owner = key.get("owner") if isinstance(key, dict) else document.get("owner")
    owner = owner if isinstance(owner, str) else None
    return APKeyDocument(owner, owner is None or (owner == document.get("id") and "inbox" in document))
