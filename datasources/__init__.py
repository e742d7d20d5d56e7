"""The hub's data layer: SQLAlchemy models and queries, per-request loaders, remote clients."""
