"""What admins do to users and queues outside the peer list, each written to the audit log."""
