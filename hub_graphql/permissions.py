"""The GraphQL side of authorisation and rate limits: one guard applying resolvers.access and resolvers.limits."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from hub_graphql.client_address import client_address
from resolvers.access import check, rule_for
from resolvers.errors import HubError
from resolvers.limits import RateLimits


def coordinate_of(info: Any) -> str:
    return f"{info._raw_info.parent_type.name}.{info.field_name}"


class Guard(BasePermission):
    """Looks the field up by its schema coordinate (Type.field) in the access table."""

    message = "You are not allowed to do this."

    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        context = info.context
        check(rule_for(coordinate_of(info)), await context.viewer(), token_given=bool(context.token))
        return True


class GuardExtension(PermissionExtension):
    """The guard's field extension: the rate limit first (resolvers.limits), then the access rule.

    A field without a row in the rate limit table pays one dictionary lookup.
    A sign-in-limited operation is settled after it ran: it succeeded when its
    payload has no userErrors.
    """

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        context = info.context
        limits: RateLimits = context.resources.rate_limits
        operation = coordinate_of(info)
        rule = limits.rule_for(operation)
        if rule is None or context.request is None:  # no row, or not an HTTP request (the CLI)
            return await super().resolve_async(next_, source, info, **kwargs)
        address = client_address(context.request, context.settings.trusted_proxies)
        try:
            admission = await limits.admit(operation, rule, address, kwargs)
        except HubError as refusal:
            retry_after = (refusal.extensions or {}).get("retryAfter")
            if isinstance(retry_after, int) and context.response is not None:
                # Several refusals in one operation (aliases): the longest wait.
                earlier = int(context.response.headers.get("Retry-After", 0))
                context.response.headers["Retry-After"] = str(max(earlier, retry_after))
            raise
        result = await super().resolve_async(next_, source, info, **kwargs)
        if admission.keys:
            await limits.settle(admission, succeeded=not getattr(result, "user_errors", None))
        return result


def guarded() -> list[FieldExtension]:
    """The extensions list of a guarded field: `@strawberry.field(extensions=guarded())`."""
    return [GuardExtension(permissions=[Guard()], use_directives=False)]
