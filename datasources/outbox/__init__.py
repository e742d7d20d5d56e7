"""The transactional outbox: work that leaves the hub (e-mail, purchase orders), stored with its cause."""
