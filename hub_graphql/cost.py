"""Operation cost: a static estimate of the work an operation asks for, and the limit it must stay under.

The cost is computed from the document and the variables, after validation and
before execution, so that an operation which would make the hub resolve
millions of fields is refused before it resolves one. The formula
(docs/operations.md, "Limits"):

    cost(field)  = own cost + size * cost(its selections)
    own cost     = 1, or the field's override in FIELD_COSTS
    size         = 1 for a field that returns one object;
                   `first` (or `limit`) for a field that takes one, clamped to 0…MAX_PAGE_SIZE;
                   on a connection (a field sliced by `first` that returns an object), the size is
                   applied to the connection's lists (`edges`), not to `totalCount` or `pageInfo`;
                   for `_entities`, the number of representations sent;
                   for any other list: its assumed size (FIELD_COSTS), else MAX_PAGE_SIZE.
    selections   = the sum of the fields selected, fragments and inline fragments included; on an
                   interface or a union, the most costly of the possible object types.

Leaves (scalars, enums and lists of them) cost their own cost. Introspection
(`__schema`, `__type`) is priced exactly: one per field its answer holds, counted by
walking the schema's own objects. `__typename` is free. `@skip` and `@include` are not looked at: a field counts
whether or not it will be skipped.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_abstract_type,
    is_list_type,
    is_object_type,
)
from graphql.execution.execute import ExecutionResult as GraphQLExecutionResult
from graphql.pyutils import Undefined
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.utilities import value_from_ast_untyped
from strawberry.extensions import SchemaExtension

from datasources.pagination import MAX_PAGE_SIZE

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"

SLICING_ARGUMENTS = ("first", "limit")
"""Arguments that say how many items a list field answers."""


@dataclass(frozen=True)
class FieldCost:
    """A field's own cost and, for a list the caller cannot size, how long it is assumed to be."""

    cost: int = 1
    assumed_size: int | None = None
    sized_by: str | None = None
    """A list argument whose length is the list's size (`_entities(representations:)`)."""


FIELD_COSTS: dict[str, FieldCost] = {
    # Asks the distributors' quote services (one call per distributor for the whole page, batched),
    # and answers one offer per distributor asked.
    "Product.liveQuotes": FieldCost(cost=10, assumed_size=10),
    # Expands categories and groups into up to 500 lines and asks every connected distributor.
    "Mutation.requestQuote": FieldCost(cost=100),
    "Mutation.refreshQuotes": FieldCost(cost=50),
    "QuoteRequest.comparison": FieldCost(cost=10),
    # A quote request's lines (at most 500; tens is usual) and its quotes (one per distributor asked).
    "QuoteRequest.items": FieldCost(assumed_size=20),
    "DistributorQuote.lines": FieldCost(assumed_size=20),
    "QuoteComparison.lines": FieldCost(assumed_size=20),
    "QuoteRequest.quotes": FieldCost(assumed_size=10),
    "QuoteComparisonLine.offers": FieldCost(assumed_size=10),
    # A reseller deals with a few distributors; its status changes are few.
    "Reseller.distributors": FieldCost(assumed_size=10),
    "Reseller.statusHistory": FieldCost(assumed_size=10),
    "Reseller.stores": FieldCost(assumed_size=10),
    # Lists whose length the hub caps on input (resolvers/partners.py).
    "Distributor.regions": FieldCost(assumed_size=50),
    "HubPolicies.currencies": FieldCost(assumed_size=50),
    "HubPolicies.paymentMethods": FieldCost(assumed_size=20),
    # A product is in a few groups and has a few attributes; a category has a few dozen children.
    "Product.groups": FieldCost(assumed_size=10),
    "Product.attributes": FieldCost(assumed_size=20),
    "Category.children": FieldCost(assumed_size=20),
    "Query.categories": FieldCost(assumed_size=20),
    "Store.categories": FieldCost(assumed_size=20),
    "Store.texts": FieldCost(assumed_size=20),
    "Viewer.roles": FieldCost(assumed_size=8),
    # A federation gateway's batch of references: as many entities as representations sent.
    "Query._entities": FieldCost(sized_by="representations"),
}
"""Per-field overrides, by `Type.field`. Any field not named costs 1, and a list not named is assumed
to hold MAX_PAGE_SIZE items. An assumed size is an estimate (the hub does not cut a longer list), so
keep the costly subtrees behind fields that take `first`."""


class CostCalculator:
    """Computes operation costs against one schema, with per-field overrides (FIELD_COSTS by default)."""

    def __init__(self, schema: GraphQLSchema, overrides: Mapping[str, FieldCost] | None = None) -> None:
        self.schema = schema
        self.overrides = dict(FIELD_COSTS if overrides is None else overrides)

    def operation_cost(
        self,
        document: Any,
        operation_name: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> int:
        """The cost of the operation `operation_name` of a validated document (0 when there is none)."""
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return 0
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        walk = _Walk(self, fragments, _variable_values(operation, variables or {}))
        return walk.selection_set(operation.selection_set, root, page_size=None)


class _Walk:
    """One cost computation: the fragments' costs are memoised per type, so that a fragment spread
    many times (or fragments spreading each other) cost one pass each."""

    def __init__(
        self,
        calculator: CostCalculator,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.calculator = calculator
        self.fragments = fragments
        self.variables = variables
        self.fragment_costs: dict[tuple[str, str, int | None], int] = {}
        self.exact_costs: dict[tuple[int, str, int], tuple[Any, int]] = {}

    def selection_set(
        self, selection_set: SelectionSetNode | None, parent: Any, page_size: int | None
    ) -> int:
        if selection_set is None:
            return 0
        if is_abstract_type(parent):
            possible = self.calculator.schema.get_possible_types(parent)
            return max((self._on_object(selection_set, t, page_size) for t in possible), default=0)
        return self._on_object(selection_set, parent, page_size)

    def _on_object(
        self, selection_set: SelectionSetNode, parent: GraphQLObjectType, page_size: int | None
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, page_size)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(
                    selection.type_condition.name.value if selection.type_condition else None, parent
                ):
                    total += self._on_object(selection.selection_set, parent, page_size)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value, parent, page_size)
        return total

    def _fragment(self, name: str, parent: GraphQLObjectType, page_size: int | None) -> int:
        key = (name, parent.name, page_size)
        if key not in self.fragment_costs:
            fragment = self.fragments.get(name)
            applies = fragment is not None and self._applies(fragment.type_condition.name.value, parent)
            # Validation refuses fragment cycles; the 0 placed first keeps a broken document finite anyway.
            self.fragment_costs[key] = 0
            self.fragment_costs[key] = (
                self._on_object(fragment.selection_set, parent, page_size) if applies and fragment else 0
            )
        return self.fragment_costs[key]

    def _applies(self, type_condition: str | None, parent: GraphQLObjectType) -> bool:
        if type_condition is None or type_condition == parent.name:
            return True
        condition = self.calculator.schema.get_type(type_condition)
        if isinstance(condition, GraphQLInterfaceType | GraphQLUnionType):
            return self.calculator.schema.is_sub_type(condition, parent)
        return False

    def _field(self, node: FieldNode, parent: GraphQLObjectType, page_size: int | None) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        definition = _field_definition(self.calculator.schema, parent, name)
        if definition is None:
            return 0
        if definition is SchemaMetaFieldDef or definition is TypeMetaFieldDef:
            return 1 + self._introspection(node, definition)
        override = self.calculator.overrides.get(f"{parent.name}.{name}", _DEFAULT)
        child_type = get_named_type(definition.type)
        if not (is_object_type(child_type) or is_abstract_type(child_type)):
            return override.cost
        sliced = self._slice(node, definition)
        returns_list = is_list_type(_nullable(definition.type))
        if returns_list:
            if override.sized_by is not None:
                sliced = self._list_length(node, definition, override.sized_by)
            size = sliced if sliced is not None else override.assumed_size or page_size or MAX_PAGE_SIZE
            return override.cost + size * self.selection_set(node.selection_set, child_type, None)
        # A connection: its lists (edges) hold `first` items; its other fields are counted once.
        return override.cost + self.selection_set(node.selection_set, child_type, sliced)

    def _introspection(self, node: FieldNode, definition: GraphQLField) -> int:
        """Introspection is priced exactly: its answers are the schema's own objects, walked here."""
        schema = self.calculator.schema
        info = _SchemaInfo(schema)
        arguments = self._arguments(node, definition)
        value = definition.resolve(None, info, **arguments) if definition.resolve else None
        if value is None:
            return 0
        return self._exact(node.selection_set, get_named_type(definition.type), value, info)

    def _exact(self, selection_set: SelectionSetNode | None, parent: Any, value: Any, info: Any) -> int:
        if selection_set is None:
            return 0
        key = (id(selection_set), parent.name, id(value))
        known = self.exact_costs.get(key)
        if known is not None:
            return known[1]
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._exact_field(selection, parent, value, info)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or condition.name.value == parent.name:
                    total += self._exact(selection.selection_set, parent, value, info)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None and fragment.type_condition.name.value == parent.name:
                    total += self._exact(fragment.selection_set, parent, value, info)
        # The value is kept with its cost, so that its id() cannot be reused by another object meanwhile.
        self.exact_costs[key] = (value, total)
        return total

    def _exact_field(self, node: FieldNode, parent: Any, value: Any, info: Any) -> int:
        definition = parent.fields.get(node.name.value) if hasattr(parent, "fields") else None
        if definition is None or definition.resolve is None:
            return 0
        child_type = get_named_type(definition.type)
        if not is_object_type(child_type):
            return 1
        result = definition.resolve(value, info, **self._arguments(node, definition))
        if result is None:
            return 1
        if is_list_type(_nullable(definition.type)):
            return 1 + sum(self._exact(node.selection_set, child_type, item, info) for item in result)
        return 1 + self._exact(node.selection_set, child_type, result, info)

    def _arguments(self, node: FieldNode, definition: GraphQLField) -> dict[str, Any]:
        """The field's arguments as sent (variables as given, not coerced), defaults filled in."""
        values = {
            name: argument.default_value
            for name, argument in definition.args.items()
            if argument.default_value is not Undefined
        }
        for given in node.arguments or ():
            if isinstance(given.value, VariableNode):
                if given.value.name.value in self.variables:
                    values[given.name.value] = self.variables[given.value.name.value]
            else:
                values[given.name.value] = value_from_ast_untyped(given.value, self.variables)
        return values

    def _list_length(self, node: FieldNode, definition: GraphQLField, argument_name: str) -> int | None:
        value = self._arguments(node, definition).get(argument_name)
        return len(value) if isinstance(value, list) else None

    def _slice(self, node: FieldNode, definition: GraphQLField) -> int | None:
        """The value of the field's slicing argument (literal, variable or default), or None."""
        for argument_name in SLICING_ARGUMENTS:
            argument = definition.args.get(argument_name)
            if argument is None:
                continue
            value: Any = argument.default_value
            for given in node.arguments or ():
                if given.name.value != argument_name:
                    continue
                if isinstance(given.value, VariableNode):
                    value = self.variables.get(given.value.name.value, argument.default_value)
                elif isinstance(given.value, IntValueNode):
                    value = int(given.value.value)
                else:
                    value = None
            if isinstance(value, int) and not isinstance(value, bool):
                return max(0, min(value, MAX_PAGE_SIZE))
            return MAX_PAGE_SIZE
        return None


_DEFAULT = FieldCost()


def _nullable(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


@dataclass(frozen=True)
class _SchemaInfo:
    """What graphql-core's introspection resolvers read of their `info`."""

    schema: GraphQLSchema


def _field_definition(schema: GraphQLSchema, parent: GraphQLObjectType, name: str) -> GraphQLField | None:
    if parent is schema.query_type:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
    return parent.fields.get(name)


def _variable_values(operation: OperationDefinitionNode, given: Mapping[str, Any]) -> dict[str, Any]:
    """Each variable's value as sent, else its default in the operation."""
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name in given:
            values[name] = given[name]
        elif definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value)
    return values


class CostCache:
    """Costs of recent operations by document text, operation name and the variables' shape (numbers, list lengths)."""

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._costs: OrderedDict[tuple[Any, ...], int] = OrderedDict()

    @staticmethod
    def key(query: str, operation_name: str | None, variables: Mapping[str, Any] | None) -> tuple[Any, ...]:
        # What a variable can change in the cost: a number (a page size) or a list's length.
        shape = []
        for name, value in sorted((variables or {}).items()):
            if isinstance(value, int) and not isinstance(value, bool):
                shape.append((name, value))
            elif isinstance(value, list):
                shape.append((name, ("length", len(value))))
        return (query, operation_name, tuple(shape))

    def get(self, key: tuple[Any, ...]) -> int | None:
        cost = self._costs.get(key)
        if cost is not None:
            self._costs.move_to_end(key)
        return cost

    def put(self, key: tuple[Any, ...], cost: int) -> None:
        self._costs[key] = cost
        self._costs.move_to_end(key)
        while len(self._costs) > self.maxsize:
            self._costs.popitem(last=False)


def too_costly(cost: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"The operation's cost is {cost:,}, over the hub's limit of {limit:,}: ask for fewer items "
        "(a smaller `first`) or fewer nested lists.",
        extensions={"code": QUERY_TOO_COSTLY, "cost": cost, "maxCost": limit},
    )


class QueryCostLimiter(SchemaExtension):
    """Refuses, before execution, an operation whose cost (above) is over `max_cost`.

    Pass it as a factory (a fresh instance per request): the calculator and the cache are shared
    by the factory's closure, built once per schema.
    """

    def __init__(self, max_cost: int, calculator: _LazyCalculator, cache: CostCache) -> None:
        self.max_cost = max_cost
        self.calculator = calculator
        self.cache = cache

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.result:
            cost = self._cost(context)
            if cost > self.max_cost:
                # Strawberry executes only when no result is set yet: this answer stands instead.
                context.result = GraphQLExecutionResult(data=None, errors=[too_costly(cost, self.max_cost)])
        yield

    def _cost(self, context: Any) -> int:
        key = (
            CostCache.key(context.query, context.operation_name, context.variables)
            if context.query is not None
            else None
        )
        cached = self.cache.get(key) if key is not None else None
        if cached is not None:
            return cached
        calculator = self.calculator.get(context.schema._schema)
        cost = calculator.operation_cost(context.graphql_document, context.operation_name, context.variables)
        if key is not None:
            self.cache.put(key, cost)
        return cost


class _LazyCalculator:
    """The calculator of the schema being executed, made on first use (the schema exists after the extensions)."""

    def __init__(self, overrides: Mapping[str, FieldCost] | None = None) -> None:
        self.overrides = overrides
        self._calculator: CostCalculator | None = None

    def get(self, schema: GraphQLSchema) -> CostCalculator:
        if self._calculator is None or self._calculator.schema is not schema:
            self._calculator = CostCalculator(schema, self.overrides)
        return self._calculator


def query_cost_limiter(max_cost: int) -> Any:
    """A factory for the schema's extensions: a fresh limiter per request, one calculator and cache per schema."""
    calculator = _LazyCalculator()
    cache = CostCache()
    return lambda: QueryCostLimiter(max_cost, calculator, cache)


__all__ = [
    "FIELD_COSTS",
    "QUERY_TOO_COSTLY",
    "CostCalculator",
    "FieldCost",
    "QueryCostLimiter",
    "query_cost_limiter",
]
