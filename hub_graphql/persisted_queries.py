"""Persisted queries: Apollo's automatic persisted queries, and a safelist (a manifest) for production.

Applied in the hub's HTTP layer (`HubGraphQL.execute_single`) before the
document is parsed. `HUB_PERSISTED_QUERIES`:

- `auto` (default): a request may carry `extensions.persistedQuery`
  (`{"version": 1, "sha256Hash": …}`); with the query text it registers it
  (the hash must be the text's SHA-256), without it the registered text is
  used, or `PersistedQueryNotFound` is answered so that the client sends the
  text. Plain requests work as always. The manifest's operations, when one is
  given, are known from the start.
- `required`: only the operations of the manifest (`HUB_PERSISTED_QUERIES_MANIFEST`)
  run, by hash or by their text; anything else is refused (`PERSISTED_QUERY_NOT_ALLOWED`).
- `off`: the extension is refused (`PERSISTED_QUERY_NOT_SUPPORTED`).

The manifest is Apollo's persisted query manifest format; `hub persisted-queries
build` writes one (`build_manifest`). Rules and codes: docs/operations.md,
"Persisted queries".
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor

from datasources.persisted_queries import QueryStore

Mode = Literal["off", "auto", "required"]

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
PERSISTED_QUERY_INVALID = "PERSISTED_QUERY_INVALID"

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


@dataclass(frozen=True)
class ManifestOperation:
    id: str
    name: str
    type: str
    body: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "type": self.type, "body": self.body}


class ManifestError(ValueError):
    pass


def load_manifest(path: Path) -> dict[str, ManifestOperation]:
    """The manifest's operations by id; raises ManifestError on a file that is not a valid manifest."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ManifestError(f"{path}: not a readable JSON file ({error})") from None
    if (
        not isinstance(content, dict)
        or content.get("format") != MANIFEST_FORMAT
        or content.get("version") != 1
    ):
        raise ManifestError(f'{path}: not a manifest ("format": "{MANIFEST_FORMAT}", "version": 1)')
    operations: dict[str, ManifestOperation] = {}
    for entry in content.get("operations") or []:
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) for k in ("id", "name", "body")
        ):
            raise ManifestError(f"{path}: an operation needs the strings id, name and body: {entry!r}")
        if sha256_of(entry["body"]) != entry["id"].lower():
            raise ManifestError(f"{path}: operation {entry['name']}: its id is not the SHA-256 of its body")
        operation = ManifestOperation(
            entry["id"].lower(), entry["name"], str(entry.get("type", "query")), entry["body"]
        )
        operations[operation.id] = operation
    return operations


def operation_bodies(document: DocumentNode, source: str = "") -> list[ManifestOperation]:
    """Each named operation of `document` with the fragments it uses, printed as Apollo's tools print it."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if definition.name is None:
            raise ManifestError(f"{source}: an operation without a name cannot be listed in a manifest")
        body = print_ast(
            DocumentNode(definitions=(definition, *_fragments_used(definition, fragments, source)))
        )
        operations.append(
            ManifestOperation(sha256_of(body), definition.name.value, definition.operation.value, body)
        )
    return operations


def _fragments_used(
    node: Any, fragments: Mapping[str, FragmentDefinitionNode], source: str
) -> list[FragmentDefinitionNode]:
    used: dict[str, FragmentDefinitionNode] = {}
    pending = [node]
    while pending:
        spreads = _Spreads()
        visit(pending.pop(), spreads)
        for name in spreads.names:
            if name in used:
                continue
            if name not in fragments:
                raise ManifestError(f"{source}: fragment {name} is used but not defined in the same file")
            used[name] = fragments[name]
            pending.append(fragments[name])
    return sorted(used.values(), key=lambda f: f.name.value)


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_fragment_spread(self, spread: FragmentSpreadNode, *_args: Any) -> None:
        self.names.append(spread.name.value)


# A template literal marked as GraphQL: gql`…`, graphql`…`, or /* GraphQL */ `…`.
_TEMPLATE = re.compile(r"(?:\bgql|\bgraphql|/\*\s*GraphQL\s*\*/)\s*(?:\(\s*)?`((?:[^`\\]|\\.)*)`", re.DOTALL)


def documents_in_script(text: str, source: str) -> list[str]:
    """The GraphQL documents of a .js/.ts file: template literals tagged `gql`/`graphql` or marked `/* GraphQL */`."""
    documents = []
    for match in _TEMPLATE.finditer(text):
        body = match.group(1)
        if "${" in body:
            raise ManifestError(
                f"{source}: a GraphQL template literal with ${{…}} cannot be read statically; "
                "write the fragments into the document"
            )
        documents.append(body.replace("\\`", "`"))
    return documents


def operations_from_files(files: Iterable[Path]) -> list[ManifestOperation]:
    """The operations of .graphql/.gql documents and .js/.ts files, each name once (the same body twice is fine)."""
    by_name: dict[str, ManifestOperation] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".graphql", ".gql"):
            documents = [text]
        elif path.suffix in (".js", ".mjs", ".ts", ".tsx", ".jsx"):
            documents = documents_in_script(text, str(path))
        else:
            raise ManifestError(f"{path}: not a .graphql, .gql, .js or .ts file")
        for document in documents:
            try:
                parsed = parse(document)
            except GraphQLSyntaxError as error:
                raise ManifestError(f"{path}: {error.message}") from None
            for operation in operation_bodies(parsed, str(path)):
                earlier = by_name.get(operation.name)
                if earlier is not None and earlier.id != operation.id:
                    raise ManifestError(f"{path}: two different operations are named {operation.name}")
                by_name[operation.name] = operation
    return sorted(by_name.values(), key=lambda o: o.name)


def build_manifest(files: Iterable[Path]) -> dict[str, Any]:
    """An Apollo persisted query manifest of the operations in `files`."""
    return {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "operations": [o.as_json() for o in operations_from_files(files)],
    }


class PersistedQueries:
    """The mode, the manifest and the store of registered queries of one app."""

    def __init__(
        self,
        mode: Mode,
        store: QueryStore,
        manifest: Mapping[str, ManifestOperation] | None = None,
        max_tokens: int | None = None,
    ) -> None:
        self.mode = mode
        self.store = store
        self.manifest = dict(manifest or {})
        self.max_tokens = max_tokens

    async def query_for(
        self, query: str | None, extensions: Mapping[str, Any] | None, operation_name: str | None
    ) -> str | GraphQLError | None:
        """The query text to run, or the error to answer instead of running anything."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
        if persisted is None:
            if self.mode == "required" and not self._listed_text(query, operation_name):
                return _error(
                    "This hub runs only the operations of its persisted query manifest.",
                    PERSISTED_QUERY_NOT_ALLOWED,
                )
            return query
        if self.mode == "off":
            return _error("PersistedQueryNotSupported", PERSISTED_QUERY_NOT_SUPPORTED)
        if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
            return _error("persistedQuery: only version 1 is supported", PERSISTED_QUERY_INVALID)
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            return _error("persistedQuery: sha256Hash must be 64 hexadecimal digits", PERSISTED_QUERY_INVALID)
        digest = digest.lower()
        if query is not None:
            if sha256_of(query) != digest:
                return _error("provided sha does not match query", PERSISTED_QUERY_HASH_MISMATCH)
            if self.mode == "required":
                if digest not in self.manifest:
                    return _error(
                        "This hub runs only the operations of its persisted query manifest.",
                        PERSISTED_QUERY_NOT_ALLOWED,
                    )
                return query
            await self.store.put(digest, query)
            return query
        listed = self.manifest.get(digest)
        if listed is not None:
            return listed.body
        if self.mode == "required":
            return _error(
                "This hub runs only the operations of its persisted query manifest.",
                PERSISTED_QUERY_NOT_ALLOWED,
            )
        registered = await self.store.get(digest)
        if registered is None:
            return _error("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)
        return registered

    def _listed_text(self, query: str | None, operation_name: str | None) -> bool:
        """A full text is listed when it is a manifest body, exactly or once printed the same way."""
        if query is None:
            return False
        if sha256_of(query) in self.manifest:
            return True
        try:
            document = parse(query, max_tokens=self.max_tokens)
            operations = operation_bodies(document)
        except (GraphQLSyntaxError, ManifestError):
            return False
        chosen = [o for o in operations if operation_name is None or o.name == operation_name]
        return len(chosen) == 1 and chosen[0].id in self.manifest

    async def close(self) -> None:
        await self.store.close()
