"""The `hub` command: serve, migrate, seed, import, export the schema, create the first admin."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hub_graphql.settings import Settings

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, help="The demand chain hub.")
db_app = typer.Typer(no_args_is_help=True, help="The hub's database.")
catalog_app = typer.Typer(no_args_is_help=True, help="The master catalog.")
orders_app = typer.Typer(no_args_is_help=True, help="Store orders and their history.")
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
app.add_typer(orders_app, name="orders")
console = Console()


def _run_with_resources(action: Callable[..., Awaitable[T]]) -> T:
    from hub_graphql.resources import open_resources

    async def main() -> T:
        async with open_resources(Settings()) as resources:
            return await action(resources)

    return asyncio.run(main())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (uvicorn).")] = 1,
) -> None:
    """Serve the hub with GraphiQL at http://HOST:PORT/graphql (reads HUB_DATABASE_URL)."""
    import uvicorn

    Settings()  # refuse to start on a bad configuration (a default secret in production) before forking
    console.print(f"[bold]Demand chain hub[/bold] on http://{host}:{port}/graphql")
    uvicorn.run(
        "hub_graphql.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Create or migrate the database at HUB_DATABASE_URL to the latest schema."""
    from datasources.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url, revision)
    console.print(f"database at {_safe_url(settings.database_url)} is at {revision}")


@app.command()
def seed(
    sample: Annotated[bool, typer.Option("--sample", help="Load the deterministic sample hub.")] = False,
) -> None:
    """Fill the database with sample data (run `hub db upgrade` first)."""
    if not sample:
        console.print("Nothing to do: pass --sample to load the sample hub.")
        raise typer.Exit(1)
    from resolvers.samples import seed_sample

    if _run_with_resources(lambda r: seed_sample(r.session_factory, console.print)):
        console.print("[green]sample data loaded[/green]")


@catalog_app.command("import")
def catalog_import(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A .csv or .jsonl file of products.")
    ],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Import the valid lines even when some are rejected.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Products per batch.")] = 2000,
) -> None:
    """Import products from CSV or JSON Lines; writes nothing when a line is bad, unless --skip-invalid."""
    from resolvers.catalog_import import ReaderFailed, import_products
    from resolvers.catalog_reader import UnreadableFile

    total = _count_lines(file)
    try:
        with Progress(
            TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task("import", total=total)
            report = _run_with_resources(
                lambda r: import_products(
                    r.session_factory,
                    file,
                    skip_invalid=skip_invalid,
                    batch_size=batch_size,
                    progress=lambda n: progress.advance(task, n),
                )
            )
    except (UnreadableFile, ReaderFailed) as error:
        console.print(f"[red]{error}; nothing was imported[/red]", highlight=False)
        raise typer.Exit(1) from None
    for rejected in report.rejected:
        console.print(f"[red]line {rejected.line}[/red]: {rejected.message}", highlight=False)
    if report.rejected and not skip_invalid:
        console.print(f"[red]{len(report.rejected)} lines rejected; nothing was imported[/red]")
        raise typer.Exit(1)
    console.print(f"imported {report.imported} products, rejected {len(report.rejected)} lines")


MAX_PROBLEMS_SHOWN = 200


@orders_app.command("import")
def orders_import(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="CSV: number,store_slug,placed_at,customer_email,status,sku,quantity,unit_price,currency",
        ),
    ],
    batch_size: Annotated[int, typer.Option(min=1, max=50_000, help="File lines per batch.")] = 5000,
) -> None:
    """Import past store orders (one order line per row); writes nothing when a line is bad."""
    from resolvers.catalog_reader import UnreadableFile
    from resolvers.orders_import import WriteRefused, import_orders

    total = _count_lines(file)
    try:
        with Progress(
            TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task("import", total=total)
            report = _run_with_resources(
                lambda r: import_orders(
                    r.session_factory,
                    file,
                    batch_size=batch_size,
                    progress=lambda n: progress.advance(task, n),
                )
            )
    except (UnreadableFile, WriteRefused) as error:
        console.print(f"[red]{error}; nothing was imported[/red]", highlight=False)
        raise typer.Exit(1) from None
    for rejected in report.rejected[:MAX_PROBLEMS_SHOWN]:
        console.print(f"[red]line {rejected.line}[/red]: {rejected.message}", highlight=False)
    if len(report.rejected) > MAX_PROBLEMS_SHOWN:
        console.print(f"… and {len(report.rejected) - MAX_PROBLEMS_SHOWN} more problems", highlight=False)
    if report.rejected:
        console.print(f"[red]{report.rejected_lines} lines rejected; nothing was imported[/red]")
        raise typer.Exit(1)
    console.print(f"imported {report.orders} orders with {report.lines} lines")


def _count_lines(file: Path) -> int:
    with file.open("rb") as handle:
        lines = sum(1 for _ in handle)
    return max(lines - (0 if file.suffix.lower() in {".jsonl", ".ndjson", ".json"} else 1), 0)


@app.command("export-schema")
def export_schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Print the hub's GraphQL SDL (the federation subgraph schema that schema.graphql holds)."""
    from hub_graphql.schema import export_sdl

    sdl = export_sdl()
    if output is None:
        typer.echo(sdl, nl=False)
    else:
        output.write_text(sdl, encoding="utf-8")


@app.command("permissions-table")
def permissions_table(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Print docs/permissions.md: who may run each operation, from resolvers.access.OPERATIONS."""
    from resolvers.access import permissions_markdown

    text = permissions_markdown()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Argument(help="The site administrator's e-mail.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, help="At least 8 characters.")],
) -> None:
    """Create a SITE_ADMIN user (the first sign-in of a new hub)."""
    from resolvers.users import create_user

    async def action(resources):  # type: ignore[no-untyped-def]
        async with resources.session_factory() as session, session.begin():
            return await create_user(session, email, password, ["SITE_ADMIN"])

    errors = _run_with_resources(action)
    if errors:
        for error in errors.errors:
            console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1)
    console.print(f"site administrator {email} created")


@app.command("sample-distributor")
def sample_distributor(
    code: Annotated[str, typer.Option(help="The distributor's code.")],
    port: Annotated[int, typer.Option(help="Port to listen on.")],
    price_list: Annotated[
        Path,
        typer.Option(
            exists=True, dir_okay=False, help="CSV: sku,currency,unit_price,stock,lead_time_days,breaks"
        ),
    ],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    latency_ms: Annotated[int, typer.Option(min=0, help="Added to every quote call.")] = 0,
    jitter_ms: Annotated[int, typer.Option(min=0, help="Random +/- on the latency.")] = 0,
    fail_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of calls answered HTTP 503.")
    ] = 0.0,
    auth_header: Annotated[str | None, typer.Option(help="Require this header on quote calls...")] = None,
    auth_value: Annotated[str | None, typer.Option(help="...with this value (else HTTP 401).")] = None,
    fail_orders: Annotated[
        int, typer.Option(min=0, help="Answer the first N purchase order deliveries HTTP 503.")
    ] = 0,
    no_orders: Annotated[
        bool, typer.Option("--no-orders", help="Serve quotes only: no placeOrder, no /quote/orders.")
    ] = False,
) -> None:
    """Serve the reference distributor: /graphql (subgraph) and /quote (REST_JSON), with purchase orders."""
    import uvicorn

    from hub_graphql.sample_distributor import Behaviour, DistributorService, PriceList, create_app

    service = DistributorService(
        code=code,
        price_list=PriceList.read(price_list),
        behaviour=Behaviour(
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            fail_rate=fail_rate,
            auth_header=auth_header,
            auth_value=auth_value,
            fail_orders=fail_orders,
            takes_orders=not no_orders,
        ),
    )
    console.print(f"[bold]distributor {code}[/bold] on http://{host}:{port}/graphql and /quote")
    uvicorn.run(create_app(service), host=host, port=port, log_level="warning")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    app()
