"""Quote posts as FEP-044f has them, in the shapes Mastodon 4.5 publishes: a post's `quote` and
`quoteAuthorization` and its `interactionPolicy.canQuote`, the QuoteRequest a quoting author's
server sends, its Accept (whose `result` is the QuoteAuthorization) or Reject, the
QuoteAuthorization document the quoted author's server serves, and its Delete (a revocation).

A peer verifying a quote fetches the authorisation from the quoted author's server and checks
its three links: who gave it (`attributedTo`), for which post (`interactingObject`) and of which
post (`interactionTarget`). `ap_to_quote_authorization` reads one; `quoted_uri` and
`quote_policy_of` read a post's quote and policy for `parse.ap_to_object`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from federation.protocol.vocab.context import AS_CONTEXT, PUBLIC, PUBLIC_FORMS
from federation.protocol.vocab.values import as_list, id_of, is_uri, type_of, uri_or_none

FEP_044F = "https://w3id.org/fep/044f#"
GTS = "https://gotosocial.org/ns#"
QUOTE_CONTEXT: dict[str, Any] = {
    "quote": f"{FEP_044F}quote",
    "quoteUri": "http://fedibird.com/ns#quoteUri",
    "_misskey_quote": "https://misskey-hub.net/ns#_misskey_quote",
    "quoteAuthorization": {"@id": f"{FEP_044F}quoteAuthorization", "@type": "@id"},
    "QuoteRequest": f"{FEP_044F}QuoteRequest",
    "QuoteAuthorization": f"{FEP_044F}QuoteAuthorization",
    "gts": GTS,
    "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
    "canQuote": {"@id": "gts:canQuote", "@type": "@id"},
    "automaticApproval": {"@id": "gts:automaticApproval", "@type": "@id"},
    "manualApproval": {"@id": "gts:manualApproval", "@type": "@id"},
    "interactingObject": {"@id": "gts:interactingObject"},
    "interactionTarget": {"@id": "gts:interactionTarget"},
}


# --- reading a post's quote ----------------------------------------------------------------------

def first_of(value: Any) -> Any:
    """The first of a value that may be single or a list (None if absent or empty)."""
    values = as_list(value)
    return values[0] if values else None


QUOTE_KEYS = ("quote", "_misskey_quote", "quoteUrl", "quoteUri")  # FEP-044f's first, then older servers'


def quoted_uri(document: dict) -> str | None:
    """The post a post quotes, by id (None if none, or if the quoted post is a Tombstone)."""
    for key in QUOTE_KEYS:
        value = first_of(document.get(key))
        if isinstance(value, dict) and type_of(value.get("type")) == "Tombstone":
            return None  # the quoted post is gone
        if (uri := uri_or_none(value)) is not None:
            return uri
    return None


def quote_policy_of(document: dict, author: str) -> str | None:
    """Who the author lets quote the post without asking (interactionPolicy.canQuote's
    automaticApproval): everyone (public), some of the author's audience (followers), nobody
    but the author; None if the post does not say."""
    policy = document.get("interactionPolicy")
    quoting = policy.get("canQuote") if isinstance(policy, dict) else None
    if not isinstance(quoting, dict):
        return None
    allowed = {PUBLIC if uri in PUBLIC_FORMS else uri for uri in map(id_of, as_list(quoting.get("automaticApproval")))
               if uri} - {author}
    return "public" if PUBLIC in allowed else "followers" if allowed else "nobody"


# --- rendering ------------------------------------------------------------------------------------

def quote_fields_to_ap(quoted: str | None, approval_uri: str | None) -> dict[str, Any]:
    """A quoting post's own fields: the quoted post under `quote` (and `quoteUri`, as Mastodon
    also writes it for older servers), and the authorisation once it is known."""
    if quoted is None:
        return {"quote": {"type": "Tombstone"}}
    fields: dict[str, Any] = {"quote": quoted, "_misskey_quote": quoted, "quoteUri": quoted}
    if approval_uri:
        fields["quoteAuthorization"] = approval_uri
    return fields


def interaction_policy_to_ap(policy: str, author_uri: str, followers_uri: str | None) -> dict[str, Any]:
    """Who may quote a local post and be approved at once: everyone, the author's followers, or
    the author alone (as Mastodon: only automatic approval on its own posts)."""
    approved = {"public": [PUBLIC], "followers": [followers_uri] if followers_uri else []}.get(policy) or [author_uri]
    return {"interactionPolicy": {"canQuote": {"automaticApproval": approved}}}


def quote_request_to_ap(request_uri: str, actor_uri: str, quoted_uri: str, quoting_uri: str) -> dict[str, Any]:
    return {"@context": [AS_CONTEXT, QUOTE_CONTEXT], **_request(request_uri, actor_uri, quoted_uri, quoting_uri)}


def _request(request_uri: str, actor_uri: str, quoted_uri: str, quoting_uri: str) -> dict[str, Any]:
    return {"id": request_uri, "type": "QuoteRequest", "actor": actor_uri, "object": quoted_uri,
            "instrument": quoting_uri}


def quote_answer_to_ap(kind: str, activity_id: str, actor_uri: str, request: dict[str, Any],
                       approval_uri: str | None) -> dict[str, Any]:
    """The quoted author's Accept (with the QuoteAuthorization as its `result`) or Reject of a
    QuoteRequest, which it embeds (`request`: its id, actor, object and instrument)."""
    document: dict[str, Any] = {
        "@context": [AS_CONTEXT, QUOTE_CONTEXT], "id": activity_id, "type": kind, "actor": actor_uri,
        "object": _request(request["id"], request["actor"], request["object"], request["instrument"]),
    }
    if kind == "Accept":
        document["result"] = approval_uri
    return document


def quote_authorization_to_ap(approval_uri: str, author_uri: str, quoting_uri: str, quoted_uri: str) -> dict[str, Any]:
    return {
        "@context": [AS_CONTEXT, QUOTE_CONTEXT], "id": approval_uri, "type": "QuoteAuthorization",
        "attributedTo": author_uri, "interactingObject": quoting_uri, "interactionTarget": quoted_uri,
    }


def delete_quote_authorization_to_ap(approval_uri: str, author_uri: str) -> dict[str, Any]:
    """The revocation of a quote: the quoted author deletes the authorisation."""
    return {"@context": AS_CONTEXT, "id": f"{approval_uri}#delete", "type": "Delete", "actor": author_uri,
            "to": [PUBLIC], "object": approval_uri}


@dataclass(frozen=True)
class APQuoteAuthorization:
    id: str
    attributed_to: str
    interacting_object: str
    interaction_target: str


def ap_to_quote_authorization(document: Any) -> APQuoteAuthorization | None:
    """A fetched QuoteAuthorization, or None if the document is not one with all its links."""
    if not isinstance(document, dict) or type_of(document.get("type"), {"QuoteAuthorization"}) != "QuoteAuthorization":
        return None
    links = [id_of(document.get(key)) for key in ("id", "attributedTo", "interactingObject", "interactionTarget")]
    if not all(is_uri(link) for link in links):
        return None
    return APQuoteAuthorization(*links)
