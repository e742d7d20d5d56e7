"""Errors of an unreachable database as answers: SERVICE_UNAVAILABLE, retryable, instead of "Unexpected error."."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from datasources.db import DatabaseUnavailable

log = logging.getLogger("hub.database")

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
RETRY_AFTER_SECONDS = 1
MESSAGE = (
    "The hub lost its database for a moment (a restart or a failover) and could not finish this; "
    "try again in a few seconds. Nothing of it was written, unless the connection was lost while a "
    "mutation committed: look before repeating a mutation."
)


def unavailable(error: GraphQLError) -> bool:
    return isinstance(error.original_error, DatabaseUnavailable)


class HubMaskErrors(MaskErrors):
    """strawberry's MaskErrors, but a lost database is a retryable answer with a code and a Retry-After."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if not unavailable(error):
            return super().anonymise_error(error)
        response = getattr(self.execution_context.context, "response", None)
        if response is not None and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return GraphQLError(
            MESSAGE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error,
            extensions={"code": SERVICE_UNAVAILABLE, "retryAfter": RETRY_AFTER_SECONDS},
        )


def log_unavailable(errors: list[GraphQLError]) -> list[GraphQLError]:
    """Log a lost database once per operation, in one line (no stack); answers the other errors."""
    lost = [e for e in errors if unavailable(e)]
    if lost:
        cause = lost[0].original_error
        log.warning("database out of reach, answered %s: %s", SERVICE_UNAVAILABLE, cause)
    return [e for e in errors if not unavailable(e)]
