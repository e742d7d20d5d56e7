"""Quotes: quote requests, distributors' quotes, and the clients that ask distributors for live offers."""
