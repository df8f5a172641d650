"""An account's posting preferences as the client API takes them (`source[privacy]`,
`source[sensitive]`, `source[language]`, as a form or nested JSON) and stores them (the keys
GET /api/v1/preferences reports). PATCH /api/v1/accounts/update_credentials and the web
settings form parse them here."""

from __future__ import annotations

from typing import Any

from server.api.auth import ApiError
from server.api.params import bool_param

PRIVACY = ("public", "unlisted", "private")
PREFERENCE = "posting:default:{}"


def parse_preferences(values: dict[str, Any]) -> dict[str, Any]:
    nested = values.get("source") if isinstance(values.get("source"), dict) else {}
    source = {k: nested.get(k, values.get(f"source[{k}]")) for k in ("privacy", "sensitive", "language")}
    prefs: dict[str, Any] = {}
    if source["privacy"] not in (None, ""):
        if source["privacy"] not in PRIVACY:
            raise ApiError(422, "Validation failed: source[privacy] must be public, unlisted or private")
        prefs[PREFERENCE.format("visibility")] = source["privacy"]
    if source["sensitive"] not in (None, ""):
        prefs[PREFERENCE.format("sensitive")] = bool_param(source, "sensitive")
    if source["language"] is not None:
        language = source["language"]
        if not isinstance(language, str) or len(language) > 16:
            raise ApiError(422, "Validation failed: source[language] must be a language code")
        prefs[PREFERENCE.format("language")] = language or None
    return prefs
