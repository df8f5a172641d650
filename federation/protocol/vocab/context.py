"""JSON-LD context IRIs and the forms of the public collection that peers send."""

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_FORMS = frozenset({PUBLIC, "as:Public", "Public"})
