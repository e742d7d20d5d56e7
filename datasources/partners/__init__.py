"""Partners and access: users, resellers, distributors, their links, and the hub's policies."""
