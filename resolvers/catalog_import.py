"""`hub catalog import`: stream a CSV or JSON Lines file of products into the catalog in batches.

The file is read and checked in a reader process (`resolvers.catalog_reader`, which documents
the formats) while this process writes: the two halves cost about the same, and in one process
they took turns on the GIL.
"""

from __future__ import annotations

import asyncio
import gc
import os
import pickle
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.catalog import writes
from datasources.catalog.models import Category, ProductGroup
from datasources.partners.queries import hub_policy_for_update
from resolvers.catalog_reader import FRAME_HEADER, CheckedBatch, ReadRequest, Rejected, UnreadableFile

BATCH_SIZE = 2000
# A frame of 2,000 products is about 1 MB (their search words included): let the stream buffer one
# whole (it pauses reading at twice this limit).
_STREAM_LIMIT = 1 << 20
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class ImportReport:
    imported: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    written: bool = False


class ReaderFailed(RuntimeError):
    """The reader process stopped without finishing the file (a bug, or it was killed)."""


@asynccontextmanager
async def reader_process(request: ReadRequest) -> AsyncIterator[AsyncIterator[CheckedBatch]]:
    """Start the reader on the file; yields its batches as they come. The process is ended on exit.

    A task takes the reader's frames off the pipe and unpickles them while the caller's SQL runs
    (SQLite and asyncpg release the GIL while they work). Memory stays bounded: the queue holds
    two batches, and once the stream's buffer is full the reader's writes block.
    """
    # The package may run from a checkout that is not installed: the reader imports it from here.
    path_entries = [str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(entry for entry in path_entries if entry)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-P",  # not the working directory first on the path: a folder named `resolvers` there must not win
        "-m",
        "resolvers.catalog_reader",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        limit=_STREAM_LIMIT,
    )
    assert process.stdin and process.stdout and process.stderr
    process.stdin.write(pickle.dumps(request))
    await process.stdin.drain()
    process.stdin.close()
    frames: asyncio.Queue[CheckedBatch | BaseException | None] = asyncio.Queue(maxsize=2)

    async def pump() -> None:
        assert process.stdout and process.stderr
        try:
            while True:
                try:
                    (length,) = FRAME_HEADER.unpack(await process.stdout.readexactly(FRAME_HEADER.size))
                    kind, payload = pickle.loads(await process.stdout.readexactly(length))
                except asyncio.IncompleteReadError:
                    await process.wait()
                    detail = (await process.stderr.read()).decode(errors="replace").strip()
                    raise ReaderFailed(
                        f"the import's reader ended early (exit {process.returncode}): {detail[-2000:]}"
                    ) from None
                if kind == "end":
                    await frames.put(None)
                    return
                await frames.put(UnreadableFile(payload) if kind == "unreadable" else payload)
        except ReaderFailed as error:
            await frames.put(error)

    async def batches() -> AsyncIterator[CheckedBatch]:
        while (item := await frames.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    pumping = asyncio.create_task(pump())
    try:
        yield batches()
    finally:
        pumping.cancel()
        if process.returncode is None:
            process.kill()
        await process.wait()
        await asyncio.gather(pumping, return_exceptions=True)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """A large import allocates millions of objects and no cycles: the cyclic collector's passes
    over the growing heap cost more than the unpickling they interrupt. Reference counting still
    frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def import_products(
    session_factory: async_sessionmaker[AsyncSession],
    path: Path,
    *,
    skip_invalid: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportReport:
    """Import in batches inside one transaction: all or nothing unless `skip_invalid`. How the
    batches are written (as they come, or staged and written at the end) is the database's
    (`writes.product_import`).

    Raises `UnreadableFile` (nothing written) when the file cannot be read further (not UTF-8,
    not CSV), and `ReaderFailed` when the reader process stops early.
    """
    report = ImportReport()
    async with session_factory() as session, session.begin():
        if session.bind.dialect.name == "sqlite":
            # A large import outgrows SQLite's default 2 MB page cache (the indexes of a big catalog).
            await session.execute(text("PRAGMA cache_size = -65536"))
        # Checking needs every category and group code; both tables are small next to the products.
        category_ids = await writes.all_ids_by_code(session, Category)
        group_ids = await writes.all_ids_by_code(session, ProductGroup)
        currencies = list((await hub_policy_for_update(session)).currencies)
        async with writes.product_import(session) as products:
            request = ReadRequest(
                path=path.absolute(),  # noqa: ASYNC240 (reads only the working directory)
                batch_size=batch_size,
                category_ids=category_ids,
                group_ids=group_ids,
                currencies=currencies,
                search_words=products.search_words,
            )
            async with reader_process(request) as batches:
                with cyclic_gc_paused():
                    async for batch in batches:
                        report.rejected.extend(batch.rejected)
                        if batch.writes and (skip_invalid or not report.rejected):
                            await products.add(batch.writes)
                            report.imported += len(batch.writes)
                        progress(batch.lines)
            if skip_invalid or not report.rejected:
                await products.write()
        if report.rejected and not skip_invalid:
            await session.rollback()
            report.imported = 0
            return report
        report.written = True
    return report
