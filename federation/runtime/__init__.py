"""One process's wiring: the federation settings, the clock, the shared context (`context`:
database, HTTP client, key store, policy) and the background workers."""
