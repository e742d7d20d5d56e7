"""Text the databases cannot hold is bad input: refused before execution, with BAD_USER_INPUT, on both databases.

PostgreSQL's text cannot hold U+0000 (NUL), and neither database driver can
encode a lone surrogate (U+D800 to U+DFFF, which JSON's `\\ud800` escapes
carry into Python strings) as UTF-8. Either reached SQL as an exception
("Unexpected error."), wherever a string argument met a statement: a SKU
looked up, an e-mail signed in with (found by the fuzz run, tests/test_fuzz.py).
This extension looks at every string the operation carries, in the document's
literals and in the variables, before anything runs, so no resolver has to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

BAD_USER_INPUT = "BAD_USER_INPUT"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "Text may not hold the NUL character (U+0000) or a lone surrogate (U+D800 to U+DFFF): {where}."


def unstorable(text: str) -> bool:
    """Whether `text` holds a character the hub cannot store or look up."""
    return _UNSTORABLE.search(text) is not None


def _variable_path(value: Any, path: str) -> str | None:
    """The path (`$input.0.name`) of the first unstorable string in a variable's value, if any."""
    if isinstance(value, str):
        return path if unstorable(value) else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _variable_path(item, f"{path}.{key}")
        if found is not None:
            return found
    return None


class _FirstUnstorableLiteral(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: StringValueNode | None = None

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
        if unstorable(node.value):
            self.found = node
            return self.BREAK
        return None


def unstorable_text_error(
    document: Any, query: str | None, variables: dict[str, Any] | None
) -> GraphQLError | None:
    """The refusal of an operation carrying unstorable text, or None."""
    for name, value in (variables or {}).items():
        path = _variable_path(value, f"${name}")
        if path is not None:
            return GraphQLError(
                MESSAGE.format(where=f"variable `{path}`"), extensions={"code": BAD_USER_INPUT}
            )
    # Such a literal can only be written with an escape (the lexer refuses the raw characters).
    if document is not None and (query is None or "\\u" in query):
        finder = _FirstUnstorableLiteral()
        visit(document, finder)
        if finder.found is not None:
            return GraphQLError(
                MESSAGE.format(where="a string in the document"),
                nodes=[finder.found],
                extensions={"code": BAD_USER_INPUT},
            )
    return None


class UnstorableText(SchemaExtension):
    """Refuses, before execution, an operation with a NUL or a lone surrogate in any string it carries."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and not context.result:
            error = unstorable_text_error(context.graphql_document, context.query, context.variables)
            if error is not None:
                # Strawberry executes only when no result is set yet: this answer stands instead.
                context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield
