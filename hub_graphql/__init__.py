"""The demand chain hub: one GraphQL schema over the master catalog, partners, stores and quotes."""
