"""The GraphQL partial-result convention: errors collected during execution are appended to the response.

A resolver that still answers (with what it has) but must say what is missing
puts a HubError in `info.context.partial_errors`; after execution this schema
extension appends them, once each, to the result's `errors` (data stays).
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension


class PartialResults(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        collected: list[GraphQLError] = getattr(context, "partial_errors", None) or []
        result = self.execution_context.result
        if not collected or result is None:
            return
        unique: dict[tuple[str, str], GraphQLError] = {}
        for error in collected:
            unique.setdefault((error.message, repr(sorted((error.extensions or {}).items()))), error)
        result.errors = [*(result.errors or []), *unique.values()]
