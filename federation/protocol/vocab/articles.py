"""Articles as ActivityStreams documents (FEP-b2b8, long-form text), both ways.

Out: a local article is an `Article` with `name` (the title), `summary` (plain text), `content`
(the sanitised HTML of the whole body and its references), `source` (the Markdown, mediaType
text/markdown), `url` (its page), `published`, `updated`, and a `preview`: a `Note` with the
title, the summary and the link, which a microblog server can show as it is. Rounds adds, in its
own namespace (ROUNDS_NS):
- `version`: the version number (1, then one more per edit);
- `changeNote`: what changed in this version (plain text; absent when the author gave none). It
  travels on the Article itself, so the Update that carries a new version carries its note, and
  any later fetch of the article says it too;
- `versions`: the id of an OrderedCollection of the article's earlier versions, oldest first,
  each an `Article` whose id is `<article id>/versions/<n>` (the same fields, with its own
  `version`, `changeNote` and `updated`: when that version was made). The current version is
  the article itself and is not in the collection.

In: `ap_to_article` reads a peer's Article or Page whole (its title, summary, full content,
Markdown source if given, `updated`, and Rounds' `version` and `changeNote` when present), after
`parse.ap_to_object` has already made the post a client shows of it (title, summary, link).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.protocol.vocab.render import NOTE_CONTEXT
from federation.protocol.vocab.values import as_list, parse_datetime

ROUNDS_NS = "https://w3id.org/rounds/ns#"
ARTICLE_TERMS: dict[str, Any] = {
    "rounds": ROUNDS_NS,
    "version": "rounds:version",
    "changeNote": "rounds:changeNote",
    "versions": {"@id": "rounds:versions", "@type": "@id"},
}
ARTICLE_CONTEXT: list[Any] = [*NOTE_CONTEXT, ARTICLE_TERMS]
MAX_CHANGE_NOTE = 500


@dataclass(frozen=True)
class ArticleText:
    """One version of an article, as a document says it (rendering takes it, parsing gives it)."""

    title: str
    summary: str        # plain text
    content: str        # HTML
    source: str         # Markdown, or "" if the document had none
    version: int | None
    change_note: str
    updated: datetime | None


def _version_fields(text: ArticleText, updated: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": text.title,
        "summary": text.summary or None,
        "content": text.content,
        "source": {"content": text.source, "mediaType": "text/markdown"},
        "version": text.version,
    }
    if text.change_note:
        document["changeNote"] = text.change_note
    if updated:
        document["updated"] = updated
    return document


def article_fields(text: ArticleText, *, uri: str, url: str, author_uri: str, preview_html: str, published: str,
                   updated: str | None) -> dict[str, Any]:
    """What turns a post's document (render.note_to_ap) into its article's: merged over it."""
    return {
        "@context": ARTICLE_CONTEXT,
        "type": "Article",
        **_version_fields(text, updated),
        "url": url,
        "versions": f"{uri}/versions",
        "preview": {"type": "Note", "attributedTo": author_uri, "content": preview_html, "published": published,
                    "url": url},
    }


def article_version_to_ap(text: ArticleText, *, uri: str, author_uri: str, url: str, made_at: str) -> dict[str, Any]:
    """An earlier version, as an item of the `versions` collection (and served at its id)."""
    return {"@context": ARTICLE_CONTEXT, "id": f"{uri}/versions/{text.version}", "type": "Article",
            "attributedTo": author_uri, "url": url, "partOf": f"{uri}/versions", **_version_fields(text, made_at)}


def versions_to_ap(uri: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The article's earlier versions, oldest first (an article has few: one page holds them all)."""
    return {"@context": ARTICLE_CONTEXT, "id": f"{uri}/versions", "type": "OrderedCollection",
            "totalItems": len(items), "orderedItems": items}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _mapped(document: dict, key: str) -> str:
    value = _text(document.get(key))
    mapping = document.get(f"{key}Map")
    if not value and isinstance(mapping, dict) and mapping:
        value = _text(next(iter(mapping.values())))
    return value


def ap_to_article(document: dict) -> ArticleText:
    """A peer's Article or Page as a version of an article (HTML unsanitised: the caller cleans it)."""
    source = ""
    for item in as_list(document.get("source")):
        if isinstance(item, dict) and item.get("mediaType") in ("text/markdown", "text/x-markdown"):
            source = item.get("content") if isinstance(item.get("content"), str) else ""
    version = document.get("version")
    return ArticleText(
        title=_mapped(document, "name"),
        summary=_mapped(document, "summary"),
        content=_mapped(document, "content"),
        source=source,
        version=version if isinstance(version, int) and not isinstance(version, bool) and version > 0 else None,
        change_note=_text(document.get("changeNote"))[:MAX_CHANGE_NOTE],
        updated=parse_datetime(document.get("updated")),
    )
