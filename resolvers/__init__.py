"""Query and mutation logic per domain, independent of the web framework."""
