"""Incoming JSON-LD becomes typed objects here; raw dicts go no further.

Peers differ in shape: Mastodon, GoToSocial, Misskey, Akkoma and Fedify send single values where
arrays are expected, compact IRIs (`as:Public`), embedded objects or bare ids, `contentMap`
instead of `content`, and `toot:`/`misskey:` extensions. Parsing is lenient about all of that and
strict about what identity depends on: an activity needs an `id`, a `type` and an `actor`, and
every id must be an absolute http(s) URL. Anything else raises `VocabError` (a 400 at the inbox).
Every `type` is read by `values.type_of`: a list such as ["Note"] is its first known name, and
anything else (null, a number, an unknown name) is UNSUPPORTED. An activity of any type parses
(an unsupported one is recorded and ignored: whether a handler exists is the registry's
business); an object or actor must be of a type we store.

Actors are read by `federation.protocol.vocab.actors` (embedded in an activity too); the values
every shape shares (`VocabError`, ids, URLs, types) are `federation.protocol.vocab.values`.

The inbox parses only an activity's head (`ap_to_activity_head`: identity, and the author of an
embedded object) before it stores the activity; the worker parses the whole of it. Both go
through the same strict steps, so they refuse the same documents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from federation.protocol.vocab.context import PUBLIC, PUBLIC_FORMS
from federation.protocol.vocab.converted import (
    CONVERTED_TYPES,
    MEDIA_TYPES,
    converted_content,
    media_in_url,
    media_type_from_url,
)
from federation.protocol.vocab.quotes import first_of, quote_policy_of, quoted_uri
from federation.protocol.vocab.polls import (
    APQuestion,
    APVote,
    ap_to_question,
    ap_to_vote,
)
from federation.protocol.vocab.actors import ACTOR_TYPES, APActor, ap_to_actor
from federation.protocol.vocab.values import (
    UNSUPPORTED,
    as_list,
    count,
    hashtag_name,
    id_of,
    is_uri,
    language_tag,
    parse_datetime,
    shown,
    type_of,
    uri_or_none,
)
from federation.protocol.vocab.values import VocabError
from federation.protocol.vocab.values import html_url as _url
from federation.protocol.vocab.values import required_uri as _required_uri
from federation.protocol.vocab.values import text_of as _text

POST_TYPES = frozenset({"Note", "Question"}) | CONVERTED_TYPES  # the others shown as Mastodon does (`converted`)
_EMBEDDED_TYPES = POST_TYPES | ACTOR_TYPES
MAX_EMBEDDED = 8  # activities embedded in activities (Undo of an Announce of a Note is 2)


def _language_text(document: dict, key: str) -> tuple[str, str | None]:
    """`content` or, failing that, the first entry of `contentMap` (with its language)."""
    text = document.get(key)
    mapping = document.get(f"{key}Map")
    if isinstance(mapping, dict) and mapping:
        language, mapped = next(iter(mapping.items()))
        return (text if isinstance(text, str) else _text(mapped)), language_tag(language)
    return _text(text), None


def _audience(document: dict, key: str) -> tuple[str, ...]:
    return tuple(PUBLIC if uri in PUBLIC_FORMS else uri for uri in map(id_of, as_list(document.get(key))) if uri)


@dataclass(frozen=True)
class Tag:
    type: str        # Hashtag, Mention, Emoji, ...
    name: str        # "#tag", "@user@host", ":emoji:"
    href: str | None


@dataclass(frozen=True)
class Attachment:
    type: str
    url: str
    media_type: str | None
    name: str | None
    blurhash: str | None
    width: int | None
    height: int | None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


@dataclass(frozen=True)
class APObject:
    """A post: a Note or a Question, or an object of another type shown as a post (an Article,
    a Page, an Image, a Video, an Audio or an Event: see `converted`)."""

    id: str
    type: str
    attributed_to: str
    content: str
    summary: str
    sensitive: bool
    language: str | None
    published: datetime | None
    updated: datetime | None
    in_reply_to: str | None
    url: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    tags: tuple[Tag, ...]
    attachments: tuple[Attachment, ...]
    question: APQuestion | None  # a Question's poll, if it has options
    raw: dict[str, Any] = field(repr=False)
    quote: str | None = None  # the post it quotes (FEP-044f `quote`, or an older server's key)
    quote_authorization: str | None = None  # the quoted author's QuoteAuthorization, by id
    quote_policy: str | None = None  # who may quote it: public, followers, nobody; None: not said
    quote_verified: bool = False  # its authorisation was fetched and checked (federation.remote.quotes)
    groups: tuple[str, ...] = ()  # its `audience` (FEP-1b12): the communities it is posted to

    @property
    def addressed(self) -> tuple[str, ...]:
        """Every actor id it names as a recipient: to, cc, audience and mentions, each once."""
        return tuple(dict.fromkeys((*self.to, *self.cc, *self.groups, *self._mentions)))

    @property
    def hashtags(self) -> list[str]:
        """The valid hashtag names, each once, in the document's order (invalid ones are dropped)."""
        return list(self._hashtags)

    @property
    def mentions(self) -> list[str]:
        """The mentioned actors' ids, each once, in the document's order."""
        return list(self._mentions)

    # worked out once per post (a Create's post is asked for them about three times: its limits,
    # its links, its audience); the lists above are copies, so no caller changes these
    @cached_property
    def _hashtags(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for t in self.tags if t.type == "Hashtag" and (name := hashtag_name(t.name))))

    @cached_property
    def _mentions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.href for t in self.tags if t.type == "Mention" and is_uri(t.href)))


@dataclass(frozen=True)
class APActivity:
    id: str
    type: str
    actor: str
    object_id: str | None
    object: APObject | APActivity | APActor | None  # when embedded and understood
    object_type: str | None  # an embedded object's type, understood or not (UNSUPPORTED if none); None for a bare id
    object_actor: str | None  # an embedded object's `actor`, understood or not
    vote: APVote | None  # a Create's poll vote, when it carries one
    target: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    published: datetime | None
    raw: dict[str, Any] = field(repr=False)
    instrument: str | None = None  # a QuoteRequest's quoting post, by id
    result: str | None = None  # an Accept's result (of a QuoteRequest: the QuoteAuthorization)
    groups: tuple[str, ...] = ()  # its `audience` (FEP-1b12): the community it is done in

    @property
    def audience(self) -> tuple[str, ...]:
        return self.to + self.cc


@dataclass(frozen=True)
class APPostHead:
    """What makes a document a post: its type, its id and its author."""

    id: str
    type: str
    attributed_to: str


@dataclass(frozen=True)
class APActivityHead:
    """An activity as far as the inbox checks it before storing it: who did what to which
    object, and whose that object is when it is embedded. `ap_to_activity_head` refuses exactly
    the documents `ap_to_activity` refuses (every other field is parsed leniently), with a
    fraction of the work; the worker parses the whole activity later."""

    id: str
    type: str
    actor: str
    object_id: str | None
    object: APPostHead | APActivityHead | APActor | None  # when embedded and understood
    groups: tuple[str, ...] = ()  # its `audience` (FEP-1b12): the community it is done in


def _tags(document: dict) -> tuple[Tag, ...]:
    tags = []
    for tag in as_list(document.get("tag")):
        if isinstance(tag, dict) and type_of(tag.get("type")) != UNSUPPORTED:
            kind = type_of(tag.get("type")).removeprefix("toot:")
            href = id_of(tag.get("href")) or (tag.get("id") if isinstance(tag.get("id"), str) else None)
            tags.append(Tag(kind, _text(tag.get("name")), href))
    return tuple(tags)


def _attachments(document: dict) -> tuple[Attachment, ...]:
    found = []
    for item in as_list(document.get("attachment")):
        if not isinstance(item, dict):
            continue
        url = item.get("url")
        if isinstance(url, list):
            url = url[0] if url else None
        url = id_of(url)
        if not is_uri(url):
            continue
        found.append(Attachment(
            type=_attachment_type(item.get("type")),
            url=url,
            media_type=item.get("mediaType") if isinstance(item.get("mediaType"), str) else media_type_from_url(url),
            name=item.get("name") if isinstance(item.get("name"), str) else None,
            blurhash=item.get("blurhash") if isinstance(item.get("blurhash"), str) else None,
            width=count(item.get("width")) or None,
            height=count(item.get("height")) or None,
        ))
    return tuple(found)


def _attachment_type(value: Any) -> str:
    kind = type_of(value)
    return "Document" if kind == UNSUPPORTED else kind


def ap_to_post_head(document: Any) -> APPostHead:
    if not isinstance(document, dict):
        raise VocabError("an object must be a JSON object")
    kind = type_of(document.get("type"), POST_TYPES)
    if kind == UNSUPPORTED:
        raise VocabError(f"unsupported object type {shown(document.get('type'))}")
    object_id = _required_uri(document, "id", kind)
    attributed = next((id_of(a) for a in as_list(document.get("attributedTo")) if is_uri(id_of(a))), None)
    if attributed is None:
        raise VocabError(f"{kind} {object_id} has no attributedTo")
    return APPostHead(object_id, kind, attributed)


def ap_to_object(document: Any) -> APObject:
    head = ap_to_post_head(document)
    kind, object_id = head.type, head.id
    content, language = _language_text(document, "content")
    if kind == "Question" and not content:
        content = _text(document.get("name"))
    summary, _ = _language_text(document, "summary")
    in_reply_to = id_of(document.get("inReplyTo"))
    url, attachments = _url(document), _attachments(document)
    if kind in CONVERTED_TYPES:  # its title, summary and link, as Mastodon shows it; no warning
        content, summary = converted_content(document, kind, summary, url or object_id), ""
        if kind in MEDIA_TYPES and not attachments:
            attachments = tuple(Attachment(type="Document", blurhash=None, **media) for media in media_in_url(document))
    return APObject(
        id=object_id,
        type=kind,
        attributed_to=head.attributed_to,
        content=content,
        summary=summary,
        sensitive=bool(document.get("sensitive")) or bool(summary),
        language=language,
        published=parse_datetime(document.get("published")),
        updated=parse_datetime(document.get("updated")),
        in_reply_to=in_reply_to if is_uri(in_reply_to) else None,
        url=url,
        to=_audience(document, "to"),
        cc=_audience(document, "cc"),
        tags=_tags(document),
        attachments=attachments,
        question=ap_to_question(document) if kind == "Question" else None,
        raw=document,
        quote=quoted_uri(document),
        quote_authorization=uri_or_none(first_of(document.get("quoteAuthorization"))),
        quote_policy=quote_policy_of(document, head.attributed_to),
        groups=tuple(uri for uri in _audience(document, "audience") if is_uri(uri)),
    )


def ap_to_activity_head(document: Any) -> APActivityHead:
    kind, activity_id, actor, raw_object, object_id = _activity_identity(document)
    return APActivityHead(
        activity_id, kind, actor, object_id, _embedded(raw_object, ap_to_post_head, ap_to_activity_head),
        tuple(uri for uri in _audience(document, "audience") if is_uri(uri)),
    )


def ap_to_activity(document: Any) -> APActivity:
    kind, activity_id, actor, raw_object, object_id = _activity_identity(document)
    target = id_of(document.get("target"))
    return APActivity(
        id=activity_id,
        type=kind,
        actor=actor,
        object_id=object_id,
        object=_embedded(raw_object, ap_to_object, ap_to_activity),
        object_type=type_of(raw_object.get("type")) if isinstance(raw_object, dict) else None,
        object_actor=id_of(raw_object.get("actor")) if isinstance(raw_object, dict) else None,
        vote=ap_to_vote(raw_object) if kind == "Create" else None,
        target=target if is_uri(target) else None,
        to=_audience(document, "to"),
        cc=_audience(document, "cc"),
        published=parse_datetime(document.get("published")),
        raw=document,
        instrument=uri_or_none(first_of(document.get("instrument"))),
        result=uri_or_none(first_of(document.get("result"))),
        groups=tuple(uri for uri in _audience(document, "audience") if is_uri(uri)),
    )


def _activity_identity(document: Any) -> tuple[str, str, str, Any, str | None]:
    """Type, id, actor, object (a one-item list unwrapped) and the object's id, if it has one."""
    if not isinstance(document, dict):
        raise VocabError("an activity must be a JSON object")
    kind = type_of(document.get("type"))  # UNSUPPORTED is recorded and ignored, like any unknown type
    activity_id = _required_uri(document, "id", kind)
    if _embedding_depth(document) > MAX_EMBEDDED:
        raise VocabError(f"{kind} {activity_id} embeds objects more than {MAX_EMBEDDED} deep")
    actor = next((id_of(a) for a in as_list(document.get("actor")) if is_uri(id_of(a))), None)
    if actor is None:
        raise VocabError(f"{kind} {activity_id} has no actor")
    raw_object = document.get("object")
    if isinstance(raw_object, list):
        raw_object = raw_object[0] if len(raw_object) == 1 else raw_object
    object_id = id_of(raw_object) if not isinstance(raw_object, list) else None
    return kind, activity_id, actor, raw_object, object_id if is_uri(object_id) else None


def _embedding_depth(document: dict) -> int:
    """How many objects are embedded one in another under `object` (counted without recursion,
    and only up to one past the limit)."""
    depth, value = 0, document.get("object")
    while depth <= MAX_EMBEDDED:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, dict):
            break
        depth, value = depth + 1, value.get("object")
    return depth


def _embedded(value: Any, to_post: Callable[[dict], Any], to_activity: Callable[[dict], Any]) -> Any:
    """An embedded object we understand, or None (a bare id, or a type we do not parse): a post
    or an activity converted by the given function, or an actor."""
    if not isinstance(value, dict):
        return None
    kind = type_of(value.get("type"), _EMBEDDED_TYPES)
    if kind in POST_TYPES:
        return to_post(value)
    if kind in ACTOR_TYPES:
        return ap_to_actor(value)
    if "actor" in value and type_of(value.get("type")) != UNSUPPORTED:
        return to_activity(value)
    return None
