"""Strawberry types, one module per domain; thin wrappers built from rows whose relations go through loaders."""
