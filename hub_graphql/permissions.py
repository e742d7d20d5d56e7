"""The GraphQL side of authorisation: one permission class that applies resolvers.access.OPERATIONS."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from resolvers.access import check, rule_for


class Guard(BasePermission):
    """Looks the field up by its schema coordinate (Type.field) in the access table."""

    message = "You are not allowed to do this."

    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        operation = f"{info._raw_info.parent_type.name}.{info.field_name}"
        context = info.context
        check(rule_for(operation), await context.viewer(), token_given=bool(context.token))
        return True


def guarded() -> list[FieldExtension]:
    """The extensions list of a guarded field: `@strawberry.field(extensions=guarded())`."""
    return [PermissionExtension(permissions=[Guard()], use_directives=False)]
