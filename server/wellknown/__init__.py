"""Discovery: WebFinger, host-meta and NodeInfo."""
