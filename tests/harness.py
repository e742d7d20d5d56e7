"""The hub under test: the real app behind an in-process HTTP client, and helpers to sign in as any role."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from datasources.partners.models import User
from hub_graphql.app import create_app
from hub_graphql.resources import Resources
from hub_graphql.settings import Settings
from resolvers.auth import hash_password, issue_token


@dataclass
class QueryCounter:
    statements: list[str] = field(default_factory=list)

    def listener(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # Transaction control is not a query (SQLite's BEGIN is sent as a statement, PostgreSQL's is not).
        if statement.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


class GraphQLFailure(AssertionError):
    pass


@dataclass
class Hub:
    app: Starlette
    resources: Resources
    client: httpx.AsyncClient

    @property
    def settings(self) -> Settings:
        return self.resources.settings

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The whole GraphQL response body ({data, errors})."""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        return response.json()

    async def query(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> Any:
        """`data` of a response that must have no errors."""
        body = await self.post(query, variables, token=token)
        if body.get("errors"):
            raise GraphQLFailure(body["errors"])
        return body["data"]

    async def user(
        self,
        *roles: str,
        email: str | None = None,
        reseller_id: int | None = None,
        distributor_id: int | None = None,
        password: str = "correct-horse-battery",
    ) -> str:
        """A new user with these roles, straight in the database; answers a bearer token for them."""
        async with self.resources.session_factory() as session, session.begin():
            user = User(
                email=email or f"{uuid.uuid4().hex[:12]}@test.example",
                password_hash=hash_password(password),
                roles=list(roles),
                reseller_id=reseller_id,
                distributor_id=distributor_id,
            )
            session.add(user)
            await session.flush()
            user_id = user.id
        return self.token_for(user_id)

    def token_for(self, user_id: int, ttl: timedelta = timedelta(hours=1)) -> str:
        return issue_token(user_id, self.settings.secret_key.get_secret_value(), ttl)

    async def staff(self, role: str = "SITE_ADMIN") -> str:
        return await self.user(role)


@asynccontextmanager
async def open_hub(settings: Settings, *, app: Starlette | None = None) -> AsyncIterator[Hub]:
    """The hub made by `create_app(settings)`, or `app` (a hub made with a test schema), running."""
    app = app or create_app(settings)
    async with app.router.lifespan_context(app):
        resources: Resources = app.state.resources_holder["resources"]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            yield Hub(app=app, resources=resources, client=client)


def errors_of(body: dict[str, Any]) -> Sequence[dict[str, Any]]:
    return body.get("errors") or []


def codes_of(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in errors_of(body)]
