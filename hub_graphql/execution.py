"""GraphQL execution with a short path for plain fields: attributes read straight off the object, no resolver.

A page of 50 store products resolves about 500 fields, nearly all of them
plain attributes (`sku`, `name`, `price { amount currency }`). graphql-core
treats each one as if it had a resolver: it builds a resolve-info object and
a path entry, calls strawberry's wrapper (which calls `getattr`), asks whether
the answer is awaitable, and completes it through four or five nested calls.
That was most of the page's time (docs/performance.md, "Store page, uncached").

For a field that strawberry itself resolves by `getattr` (no resolver, no
arguments, no field extension) and no schema extension hooks into every field
(`resolve`, a graphql-core middleware), this executor reads the attribute and
completes it on the spot: a scalar or enum is coerced as graphql-core would;
an object with no `is_type_of` check goes on to its own fields. Anything else,
and any value that would be an error (null in a non-null field, a value the
scalar refuses), goes through graphql-core's own `execute_field`, so errors,
their paths and their messages stay exactly graphql-core's.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

LEAF = 1
OBJECT = 2

_Plan = tuple[int, str, Any, bool, Any] | None
"""(LEAF or OBJECT, the attribute's name, the named type, whether it is non-null, the field's type), or None."""

_FULL_PATH = object()
"""A field's value is to be made by graphql-core's own execute_field."""

_plans: WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], _Plan]] = WeakKeyDictionary()


def plain_field_plan(field: GraphQLField) -> _Plan:
    """How to read a field without a resolver call, or None when it needs graphql-core's full path."""
    if field.args or not getattr(field.resolve, "_is_default", False):
        return None
    strawberry_field = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if strawberry_field is None or strawberry_field.default_resolver is not getattr:
        return None
    field_type = field.type
    non_null = isinstance(field_type, GraphQLNonNull)
    named = field_type.of_type if non_null else field_type
    if is_leaf_type(named):
        return (LEAF, strawberry_field.python_name, named, non_null, field_type)
    if is_object_type(named) and named.is_type_of is None:
        return (OBJECT, strawberry_field.python_name, named, non_null, field_type)
    return None  # lists, interfaces, unions, types checked by is_type_of


class HubExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, with plain fields read and completed without a resolver call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # A middleware (a schema extension's `resolve`) must see every field: then no short path.
        self._short_paths = manager is None or manager._middleware_resolvers is None
        plans = _plans.get(self.schema)
        if plans is None:
            plans = _plans[self.schema] = {}
        self._plans = plans

    def _plan(self, parent_type: GraphQLObjectType, field_name: str) -> _Plan:
        key = (parent_type.name, field_name)
        try:
            return self._plans[key]
        except KeyError:
            field = parent_type.fields.get(field_name)
            plan = self._plans[key] = plain_field_plan(field) if field is not None else None
            return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if not self._short_paths:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        plan_of = self._plan
        try:
            for response_name, field_details_list in grouped_field_set.items():
                plan = plan_of(parent_type, field_details_list[0].node.name.value)
                result: Any = _FULL_PATH
                if plan is not None:
                    kind, attribute, named, non_null, _field_type = plan
                    try:
                        value = getattr(source_value, attribute)
                    except Exception:  # graphql-core's full path makes the error
                        value = Undefined
                    if value is None:
                        if not non_null:
                            result = None
                    elif value is Undefined:
                        pass
                    elif kind == LEAF:
                        try:
                            coerced = named.coerce_output_value(value)
                        except Exception:  # as above
                            coerced = None
                        if coerced is not None and coerced is not Undefined:
                            results[response_name] = coerced  # a scalar: never awaitable
                            continue
                    else:
                        field_path = Path(path, response_name, parent_type.name)
                        result = self._complete_plain_object(
                            plan, field_details_list, field_path, value, position_context
                        )
                if result is _FULL_PATH:
                    # Not a plain field, or a value graphql-core will answer with an error.
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, parent_type.name),
                        position_context,
                    )
                    if result is Undefined:
                        continue
                results[response_name] = result
                if is_awaitable(result):
                    awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gather_fields(results, awaitable_fields)

    async def _gather_fields(self, results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
        """As graphql-core's execute_fields: the awaitable fields awaited together."""
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
        else:
            awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
        return results

    def _complete_plain_object(
        self, plan: Any, field_details_list: Any, path: Path, value: Any, position_context: Any
    ) -> Any:
        """The object's own fields, with the error handling graphql-core's execute_field gives them."""
        _kind, _attribute, return_type, _non_null, field_type = plan
        try:
            completed = self.collect_and_execute_subfields(
                return_type, field_details_list, path, value, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._await_completed(completed, field_type, field_details_list, path)
        return completed

    async def _await_completed(
        self, completed: Awaitable[Any], field_type: Any, field_details_list: Any, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_type, field_details_list, path)
            return None
