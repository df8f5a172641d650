"""Best-practice articles: written in Markdown, reviewed in a community, versioned, federated
as ActivityStreams `Article` objects (FEP-b2b8). See docs/ARCHITECTURE.md and README."""
