"""GraphQL types, queries and mutations of quotes: live offers and the request-for-quote workflow."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLUnionType,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values

from datasources.db import UnitOfWork
from datasources.quotes import models
from datasources.quotes.clients import LIVE_TRANSPORTS
from datasources.quotes.fanout import Outcome
from datasources.quotes.loaders import QuoteLoaders
from datasources.quotes.writes import QuoteAnswer
from hub_graphql.mutations import run_checked, run_mutation
from hub_graphql.permissions import guarded
from hub_graphql.types.catalog import Product
from hub_graphql.types.common import (
    Info,
    Money,
    Node,
    PageInfo,
    UserError,
    flat_input,
    global_id,
    parse_global_id,
)
from hub_graphql.types.partners import Distributor, Reseller
from resolvers import catalog as catalog_resolvers
from resolvers.access import check, rule_for
from resolvers.errors import UserErrors, forbidden
from resolvers.quotes import comparison, live, reads, workflow

if TYPE_CHECKING:
    from hub_graphql.context import Context

T = TypeVar("T")


@strawberry.enum
class QuoteRequestStatus(Enum):
    OPEN = "OPEN"
    QUOTED = "QUOTED"
    ACCEPTED = "ACCEPTED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class QuoteStatus(Enum):
    OFFERED = "OFFERED"
    UNAVAILABLE = "UNAVAILABLE"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"


@strawberry.enum
class QuoteSource(Enum):
    LIVE = "LIVE"
    MANUAL = "MANUAL"


def _money(amount_minor: int | None, currency: str) -> Money | None:
    return None if amount_minor is None else Money.of_minor(amount_minor, currency)


async def _distributor(info: Info, distributor_id: int) -> Distributor:
    row = await info.context.loaders.partners.distributor_by_id.load(distributor_id)
    return Distributor.of(row)


def _key_of(value: str, type_name: str) -> int | None:
    """The row id inside a global id of this type, or None."""
    parsed = parse_global_id(value)
    if parsed is None or parsed[0] != type_name or not parsed[1].isdigit():
        return None
    return int(parsed[1])


# ---------------------------------------------------------------- live quotes


@strawberry.type(description="One distributor's live offer on a product, as its quote service gave it.")
class LiveQuote:
    # Plain attributes only, the distributor included: a page of 100 products brings 500 of these, and
    # a field with a resolver of its own costs graphql-core a call (and here a loader round) per object.
    sku: str
    quantity: int
    unit_price: Money | None
    available: bool
    available_quantity: int | None
    lead_time_days: int | None
    valid_until: datetime | None
    distributor: Distributor


LIVE_QUOTES = "Product.liveQuotes"
"""The field's schema coordinate: its access rule and rate limit are looked up by it."""

LiveAnswers = dict[str, tuple[list[LiveQuote], list[live.DistributorFailure]]]


def _live_quotes(answers: dict[str, live.Answer]) -> LiveAnswers:
    distributors: dict[int, Distributor] = {}
    built: LiveAnswers = {}
    for sku, (offers, failures) in answers.items():
        quotes = []
        for offer in offers:
            distributor = distributors.get(offer.distributor.id)
            if distributor is None:
                distributor = distributors[offer.distributor.id] = Distributor.of(offer.distributor)
            line = offer.line
            quotes.append(
                LiveQuote(
                    sku=sku,
                    quantity=offer.quantity,
                    unit_price=_money(line.unit_price_minor, offer.currency),
                    available=line.available,
                    available_quantity=line.available_quantity,
                    lead_time_days=line.lead_time_days,
                    valid_until=offer.valid_until,
                    distributor=distributor,
                )
            )
        built[sku] = (quotes, failures)
    return built


async def _plan(context: Context, arguments: live.LiveQuoteArguments, *, ahead: bool) -> live.LivePlan:
    viewer = await context.viewer()
    if ahead:
        # Started before the field's own guard ran: the same access rule, or no call at all.
        check(rule_for(LIVE_QUOTES), viewer, token_given=bool(context.token))
    if viewer is None:
        raise forbidden()
    reseller_code = None
    if viewer.reseller_id is not None and not viewer.is_staff:
        reseller = await context.loaders.partners.reseller_by_id.load(viewer.reseller_id)
        reseller_code = reseller.code if reseller else None
    return await live.live_plan(
        context.loaders.quotes, viewer, await context.policy(), arguments, reseller_code=reseller_code
    )


async def _answers(context: Context, plan: asyncio.Task[live.LivePlan], skus: list[str]) -> LiveAnswers:
    return _live_quotes(await live.live_offers(context.loaders.quotes, await plan, skus))


async def _answers_of(offers: Awaitable[dict[str, live.Answer]]) -> LiveAnswers:
    return _live_quotes(await offers)


def _started(context: Context, key: Hashable, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    task = asyncio.ensure_future(work)
    task.add_done_callback(_seen)
    context.started_ahead[key] = task
    return task


def _seen(task: asyncio.Task[Any]) -> None:
    # A look-ahead's failure matters only to the fields that read it (they raise it again); when none
    # does (the guard refused them), asyncio must not log it as an exception nobody retrieved.
    if not task.cancelled():
        task.exception()


def _planned(
    context: Context, arguments: live.LiveQuoteArguments, *, ahead: bool
) -> asyncio.Task[live.LivePlan]:
    """The plan of these arguments, started once per request."""
    task = context.started_ahead.get((LIVE_QUOTES, arguments))
    if task is None:
        task = _started(context, (LIVE_QUOTES, arguments), _plan(context, arguments, ahead=ahead))
    return task


def _start_live_quotes(
    context: Context, skus: list[str], arguments: live.LiveQuoteArguments, *, ahead: bool
) -> asyncio.Task[LiveAnswers]:
    """One task asking for these SKUs at once, remembered per (SKU, arguments) for the fields that read them.

    The one place the hub starts asking for live quotes, whether the field itself or the
    look-ahead from its product page got there first. When the plan is ready, the offers'
    keys are queued before this returns.
    """
    plan = _planned(context, arguments, ahead=ahead)
    if plan.done() and not plan.cancelled() and plan.exception() is None:
        work = _answers_of(live.live_offers(context.loaders.quotes, plan.result(), skus))
    else:
        work = _answers(context, plan, skus)
    task = _started(context, (LIVE_QUOTES, skus[0], arguments), work)
    context.started_ahead.update(((LIVE_QUOTES, sku, arguments), task) for sku in skus[1:])
    return task


PAGE_TO_LIVE_QUOTES = (("ProductConnection", "edges"), ("ProductEdge", "node"), ("Product", "liveQuotes"))
"""From a product page (a ProductConnection) down to its products' liveQuotes."""


class _NotForeseen(Exception):
    """The document uses something the look-ahead does not read: leave it to the fields."""


def live_quote_selections(info: Info) -> list[live.LiveQuoteArguments]:
    """The arguments of every `liveQuotes` the operation selects under this product page's nodes.

    Read from the document as graphql-core will execute it: fragments and inline
    fragments whose type condition the object meets, @skip and @include applied,
    variables and default values filled in.
    """
    raw = info._raw_info
    schema, fragments = raw.schema, raw.fragments
    # Strawberry hands resolvers the coerced values alone; graphql-core's readers take its container.
    variables = VariableValues(sources={}, coerced=raw.variable_values)
    nodes: list[FieldNode] = list(raw.field_nodes)
    for type_name, field_name in PAGE_TO_LIVE_QUOTES:
        object_type = schema.get_type(type_name)
        assert isinstance(object_type, GraphQLObjectType)
        found: list[FieldNode] = []
        try:
            for node in nodes:
                if node.selection_set is not None:
                    _collect(schema, fragments, variables, object_type, node.selection_set, field_name, found)
        except _NotForeseen:
            return []  # the fields will ask for themselves
        nodes = found
    product = schema.get_type("Product")
    assert isinstance(product, GraphQLObjectType)
    definition = product.fields["liveQuotes"]
    selections: list[live.LiveQuoteArguments] = []
    for node in nodes:
        values = get_argument_values(definition, node, variables)
        codes = values.get("distributorCodes")
        arguments = live.LiveQuoteArguments(
            quantity=values["quantity"],
            currency=values.get("currency"),
            distributor_codes=None if codes is None else tuple(codes),
        )
        if arguments not in selections:
            selections.append(arguments)
    return selections


def _collect(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    variables: VariableValues,
    object_type: GraphQLObjectType,
    selection_set: SelectionSetNode,
    name: str,
    found: list[FieldNode],
) -> None:
    """The fields called `name` in a selection set on `object_type`, as graphql-core's field collection finds them."""
    for selection in selection_set.selections:
        if not _included(selection, variables):
            continue
        if isinstance(selection, FieldNode):
            if selection.name.value == name:
                found.append(selection)
            continue
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None:
                continue
            if getattr(selection, "arguments", None):
                # Fragment arguments (experimental): their variables are not the operation's.
                raise _NotForeseen
            condition, inner = fragment.type_condition, fragment.selection_set
        else:
            assert isinstance(selection, InlineFragmentNode)
            condition, inner = selection.type_condition, selection.selection_set
        if condition is None or _meets(schema, condition.name.value, object_type):
            _collect(schema, fragments, variables, object_type, inner, name, found)


def _included(selection: SelectionNode, variables: VariableValues) -> bool:
    skip = get_directive_values(GraphQLSkipDirective, selection, variables)
    if skip and skip.get("if"):
        return False
    include = get_directive_values(GraphQLIncludeDirective, selection, variables)
    return not (include and not include.get("if"))


def _meets(schema: GraphQLSchema, condition: str, object_type: GraphQLObjectType) -> bool:
    wanted = schema.get_type(condition)
    if wanted is object_type:
        return True
    return isinstance(wanted, GraphQLInterfaceType | GraphQLUnionType) and schema.is_sub_type(
        wanted, object_type
    )


CALLS_ON_THEIR_WAY_LIMIT_S = 0.05
"""The longest a page waits for its calls to leave before walking its products (loopback: under 1 ms)."""


@dataclass
class LiveQuotesAhead:
    """The `liveQuotes` selections under a product page, planned already; `ask` once the page is read."""

    context: Context
    selections: list[live.LiveQuoteArguments]

    async def ask(self, skus: list[str]) -> None:
        """Start asking for these products' live quotes (but those already started), in one batch.

        Returns once the plans are ready and the offers' batch is started, so that
        the batch's first step (the fan-out) comes before graphql-core walks the
        page: the walk and the products' own resolvers then overlap the
        distributors' latency instead of coming before the calls.
        """
        context = self.context
        plans = [_planned(context, arguments, ahead=True) for arguments in self.selections]
        await asyncio.wait(plans)
        started = context.started_ahead
        for arguments in self.selections:
            wanted = [sku for sku in skus if (LIVE_QUOTES, sku, arguments) not in started]
            if wanted:
                _start_live_quotes(context, wanted, arguments, ahead=True)
        context.loaders.quotes.offers.dispatch()
        # Wait until the calls are on their way: the batch's tasks would otherwise send only after
        # graphql-core has walked the whole page (asyncio runs them after the current work), and
        # the walk's milliseconds would come before the distributors' latency instead of during it.
        await context.loaders.quotes.calls.wait(CALLS_ON_THEIR_WAY_LIMIT_S)


def look_ahead_live_quotes(info: Info) -> LiveQuotesAhead | None:
    """Whether this product page's nodes read `liveQuotes`: if so, start planning them now.

    Called by the product page's resolver before it reads the page, which then
    gives the page's SKUs to `LiveQuotesAhead.ask`. With the selection's
    distributors and endpoints loaded meanwhile, the calls go out as soon as
    the SKUs are known, while graphql-core walks the page's other fields,
    rather than once every product's `liveQuotes` resolver has run. The fields
    then read what was started, so each distributor still gets one call per
    operation. Nothing is asked for a viewer the field's access rule refuses,
    nor when the field has a rate limit (it must be admitted field by field).
    """
    context = info.context
    if context.resources.rate_limits.rule_for(LIVE_QUOTES) is not None:
        return None
    selections = live_quote_selections(info)
    if not selections:
        return None
    for arguments in selections:
        _planned(context, arguments, ahead=True)
    return LiveQuotesAhead(context, selections)


async def live_quotes_of(info: Info, sku: str, arguments: live.LiveQuoteArguments) -> list[LiveQuote]:
    """Product.liveQuotes: the offers that came; one DISTRIBUTOR_UNAVAILABLE error per distributor that failed."""
    context = info.context
    task = context.started_ahead.get((LIVE_QUOTES, sku, arguments))
    if task is None:
        task = _start_live_quotes(context, [sku], arguments, ahead=False)
    # Shielded: the task may serve other products' fields too.
    quotes, failures = (await asyncio.shield(task))[sku]
    context.partial_errors.extend(failure.error() for failure in failures)
    return quotes


# ---------------------------------------------------------------- quote requests


@strawberry.type
class QuoteRequestItem:
    sku: str
    quantity: int

    @strawberry.field
    async def product(self, info: Info) -> Product | None:
        row = await info.context.loaders.catalog.product_by_sku.load(self.sku)
        return Product.of(row) if catalog_resolvers.is_visible(row, await info.context.viewer()) else None


@strawberry.type
class QuoteLine:
    sku: str
    quantity: int
    unit_price: Money | None
    available: bool
    available_quantity: int | None
    lead_time_days: int | None

    @classmethod
    def of(cls, row: models.DistributorQuoteLine, currency: str) -> QuoteLine:
        return cls(
            sku=row.sku,
            quantity=row.quantity,
            unit_price=_money(row.unit_price_minor, currency),
            available=row.available,
            available_quantity=row.available_quantity,
            lead_time_days=row.lead_time_days,
        )


@strawberry.type(description="One distributor's answer to a quote request.")
class DistributorQuote(Node):
    id: strawberry.ID
    status: QuoteStatus
    source: QuoteSource
    total: Money | None
    valid_until: datetime | None
    failure: str | None = strawberry.field(
        description="Why this distributor gave no offer: it timed out, failed or broke the contract."
    )
    answered_at: datetime
    row: strawberry.Private[models.DistributorQuote]

    @classmethod
    def of(cls, row: models.DistributorQuote) -> DistributorQuote:
        return cls(
            id=global_id("DistributorQuote", row.id),
            status=QuoteStatus(reads.quote_status(row, reads.utcnow())),
            source=QuoteSource(row.source),
            total=_money(row.total_minor, row.currency),
            valid_until=reads.as_utc(row.valid_until),
            failure=row.failure,
            answered_at=reads.as_utc(row.answered_at) or reads.utcnow(),
            row=row,
        )

    @strawberry.field
    async def distributor(self, info: Info) -> Distributor:
        return await _distributor(info, self.row.distributor_id)

    @strawberry.field
    async def lines(self, info: Info) -> list[QuoteLine]:
        rows = await info.context.loaders.quotes.lines_by_quote_id.load(self.row.id)
        return [QuoteLine.of(r, self.row.currency) for r in rows]

    @strawberry.field(description="The quote request this quote answers.")
    async def quote_request(self, info: Info) -> QuoteRequest | None:
        row = await reads.visible_request(
            info.context.loaders.quotes, await info.context.viewer(), self.row.request_id
        )
        return QuoteRequest.of(row) if row else None


@strawberry.type(description="One distributor's offer on one line, in a comparison.")
class ComparedOffer:
    available: bool = strawberry.field(description="Whether this line can be bought from this quote now.")
    unit_price: Money | None
    line_total: Money | None
    available_quantity: int | None
    lead_time_days: int | None
    quote_row: strawberry.Private[models.DistributorQuote]

    @classmethod
    def of(cls, offer: comparison.ComparedOffer, currency: str) -> ComparedOffer:
        line = offer.line
        return cls(
            available=offer.buyable,
            unit_price=_money(line.unit_price_minor, currency) if line else None,
            line_total=_money(offer.line_total_minor, currency),
            available_quantity=line.available_quantity if line else None,
            lead_time_days=line.lead_time_days if line else None,
            quote_row=offer.quote,
        )

    @strawberry.field
    async def distributor(self, info: Info) -> Distributor:
        return await _distributor(info, self.quote_row.distributor_id)

    @strawberry.field
    def quote(self) -> DistributorQuote:
        return DistributorQuote.of(self.quote_row)


@strawberry.type
class QuoteComparisonLine:
    sku: str
    quantity: int
    offers: list[ComparedOffer] = strawberry.field(
        description="Every distributor's offer: the buyable ones cheapest first, then the others."
    )
    best: ComparedOffer | None = strawberry.field(description="The cheapest buyable offer; null when none.")


@strawberry.type(description="A quote request's lines with every distributor's offer side by side.")
class QuoteComparison:
    currency: str
    lines: list[QuoteComparisonLine]
    best_total: Money | None = strawberry.field(
        description="Each line bought from the distributor where it is cheapest, over the lines some offer covers."
    )
    lines_without_offer: int = strawberry.field(description="Lines no distributor offers.")


@strawberry.type
class QuoteRequest(Node):
    id: strawberry.ID
    status: QuoteRequestStatus
    currency: str
    created_at: datetime
    expires_at: datetime | None
    row: strawberry.Private[models.QuoteRequest]

    @classmethod
    def of(cls, row: models.QuoteRequest) -> QuoteRequest:
        return cls(
            id=global_id("QuoteRequest", row.id),
            status=QuoteRequestStatus(reads.request_status(row, reads.utcnow())),
            currency=row.currency,
            created_at=reads.as_utc(row.created_at) or reads.utcnow(),
            expires_at=reads.as_utc(row.expires_at),
            row=row,
        )

    @strawberry.field
    async def reseller(self, info: Info) -> Reseller:
        row = await info.context.loaders.partners.reseller_by_id.load(self.row.reseller_id)
        return Reseller.of(row)

    @strawberry.field
    async def items(self, info: Info) -> list[QuoteRequestItem]:
        rows = await info.context.loaders.quotes.items_by_request_id.load(self.row.id)
        return [QuoteRequestItem(sku=r.sku, quantity=r.quantity) for r in rows]

    @strawberry.field(description="The distributors' quotes; a distributor's reps see only their own.")
    async def quotes(self, info: Info) -> list[DistributorQuote]:
        rows = await reads.visible_quotes(info.context.loaders.quotes, await info.context.viewer(), self.row)
        return [DistributorQuote.of(r) for r in rows]

    @strawberry.field(
        description="For each line every distributor's offer side by side, cheapest buyable first, "
        "and the best total across distributors."
    )
    async def comparison(self, info: Info) -> QuoteComparison:
        loaders = info.context.loaders.quotes
        quotes = await reads.visible_quotes(loaders, await info.context.viewer(), self.row)
        items = await loaders.items_by_request_id.load(self.row.id)
        lines = await loaders.lines_by_quote_id.load_many([q.id for q in quotes])
        result = comparison.compare(
            self.row.currency,
            items,
            quotes,
            {q.id: q_lines for q, q_lines in zip(quotes, lines, strict=True)},
            reads.utcnow(),
        )
        currency = result.currency
        return QuoteComparison(
            currency=currency,
            lines=[
                QuoteComparisonLine(
                    sku=line.sku,
                    quantity=line.quantity,
                    offers=[ComparedOffer.of(o, currency) for o in line.offers],
                    best=ComparedOffer.of(line.best, currency) if line.best else None,
                )
                for line in result.lines
            ],
            best_total=_money(result.best_total_minor, currency),
            lines_without_offer=result.lines_without_offer,
        )


@strawberry.type
class QuoteRequestEdge:
    cursor: str
    node: QuoteRequest


@strawberry.type
class QuoteRequestConnection:
    edges: list[QuoteRequestEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many requests match, over all pages.")
    async def total_count(self) -> int:
        return await self.count()


# ---------------------------------------------------------------- inputs and payloads


@flat_input
@strawberry.input(
    description="One line of a quote request: exactly one of sku, categoryCode and groupCode.\n"
    "A category or group stands for each of its active products, at that quantity."
)
class QuoteItemInput:
    quantity: int
    sku: str | None = None
    category_code: str | None = None
    group_code: str | None = None


@strawberry.input
class RequestQuoteInput:
    items: list[QuoteItemInput]
    currency: str | None = None
    distributor_codes: list[str] | None = strawberry.field(
        default=None, description="Default: every approved distributor connected to the reseller."
    )


@flat_input
@strawberry.input
class QuoteLineInput:
    sku: str
    quantity: int
    available: bool
    unit_price: Decimal | None = None
    available_quantity: int | None = None
    lead_time_days: int | None = None


@strawberry.input(
    description="A distributor's own answer, typed in the hub (its proxy store), for a MANUAL distributor "
    "or instead of a live one."
)
class QuoteResponseInput:
    quote_request_id: strawberry.ID
    lines: list[QuoteLineInput]
    valid_until: datetime | None = None


@strawberry.type
class QuoteRequestPayload:
    quote_request: QuoteRequest | None
    user_errors: list[UserError]


@strawberry.type
class DistributorQuotePayload:
    quote: DistributorQuote | None
    user_errors: list[UserError]


async def _request_payload(info: Info, result: workflow.Result) -> QuoteRequestPayload:
    if result.errors:
        return QuoteRequestPayload(quote_request=None, user_errors=UserError.all(result.errors.errors))
    row = await info.context.loaders.quotes.request_by_id.load(result.request_id)
    return QuoteRequestPayload(quote_request=QuoteRequest.of(row) if row else None, user_errors=[])


async def _quote_payload(info: Info, result: workflow.Result) -> DistributorQuotePayload:
    if result.errors:
        return DistributorQuotePayload(quote=None, user_errors=UserError.all(result.errors.errors))
    row = await info.context.loaders.quotes.quote_by_id.load(result.quote_id)
    return DistributorQuotePayload(quote=DistributorQuote.of(row) if row else None, user_errors=[])


async def _in_unit(info: Info, step: Callable[[UnitOfWork], Awaitable[workflow.Result]]) -> workflow.Result:
    """One unit of work that writes nothing when the step answers userErrors."""
    return await run_checked(info, step)


_ENDED = None
"""Put on `_Asking.answers` when the fan-out's task ends, after every answer it gave."""


class _Asking:
    """The live distributors asked about a request, and their answers as each one comes in."""

    def __init__(self, loaders: QuoteLoaders, ask: workflow.LiveAsk) -> None:
        self.ask = ask
        self.answers: asyncio.Queue[tuple[int, list[Outcome]] | None] = asyncio.Queue()
        self.task = asyncio.create_task(
            workflow.ask_live(loaders, ask, lambda d, outcomes: self.answers.put_nowait((d, outcomes)))
        )
        self.task.add_done_callback(lambda _task: self.answers.put_nowait(_ENDED))

    def cancel(self) -> None:
        self.task.cancel()

    async def store(self, info: Info) -> None:
        """Store each answer as it comes (no transaction open between), what came meanwhile together.

        Stored together after the last, five answers of 300 lines took 10 ms on SQLite after the
        slowest distributor answered, and as much of the deadline's overshoot when one was late;
        now only what came last is left to store then. Each unit stores whole quotes: a
        distributor's answer is never half-stored, whatever becomes of the others.
        """
        policy = await info.context.policy()
        waiting = set(self.ask.distributor_ids)
        while waiting:
            came = [await self.answers.get()]
            while not self.answers.empty():
                came.append(self.answers.get_nowait())
            arrived = [answer for answer in came if answer is not _ENDED]
            if arrived:
                now = reads.utcnow()
                answers = [workflow.live_answer(d, o, now, policy) for d, o in arrived]
                waiting -= {d for d, _ in arrived}
                await run_mutation(info, functools.partial(self._store_in, answers=answers, now=now))
            if _ENDED in came and waiting:
                await self.task  # it ended with answers missing: it raised, and so do we here
                raise RuntimeError("the fan-out ended before every distributor had answered")
        await self.task

    async def _store_in(self, unit: UnitOfWork, *, answers: list[QuoteAnswer], now: datetime) -> None:
        await workflow.store_live_answers(unit.session, self.ask.request_id, answers, now)


async def _ask_and_store(info: Info, ask: workflow.LiveAsk | None) -> None:
    """Ask the live distributors, then store their answers (refreshQuotes)."""
    if ask is None or not ask.distributor_ids:
        return
    asking = _Asking(info.context.loaders.quotes, ask)
    try:
        await asking.store(info)
    finally:
        asking.cancel()  # done already, unless storing failed


async def request_quote_of(info: Info, data: workflow.RequestQuoteData) -> QuoteRequestPayload:
    """`requestQuote` for the signed-in reseller: store the request, then ask the live distributors.

    The one path of every quote request (requestQuote, requestQuoteFromDemandPlan). The calls to
    the distributors leave as soon as the request has its id, while its lines are written and
    committed (workflow.create_request's `start_asking`); each answer is stored as it comes after
    the commit.
    """
    viewer = await info.context.viewer()
    policy = await info.context.policy()
    loaders = info.context.loaders.quotes
    # What the calls need (the endpoints of the reseller's live distributors, the fan-out's settings)
    # is read before the unit: while it runs it holds the request's session, which the loaders use.
    ready: set[int] = set()
    if viewer is not None and viewer.reseller_id is not None:
        askable = await loaders.askable_distributors_by_reseller_id.load(viewer.reseller_id)
        ready = {d.id for d in askable if d.quote_transport in LIVE_TRANSPORTS}
        if ready:
            await loaders.ready_to_fan_out(sorted(ready))
    asking: list[_Asking] = []

    async def start_asking(ask: workflow.LiveAsk) -> None:
        # Any distributor not read above (none is: the request's live ones are among the askable)
        # would need the session the unit holds: then the calls wait for the commit.
        if ask.distributor_ids and ready.issuperset(ask.distributor_ids):
            asking.append(_Asking(loaders, ask))

    try:
        result = await _in_unit(
            info,
            lambda unit: workflow.create_request(
                unit.session, viewer, policy, data, reads.utcnow(), start_asking
            ),
        )
        # With userErrors nothing was started (only valid input is asked about) and nothing stored.
        if not result.errors:
            if asking:
                await asking[0].store(info)
            else:
                await _ask_and_store(info, result.ask)
    finally:
        for started in asking:
            started.cancel()  # done already, unless the unit or storing failed
    return await _request_payload(info, result)


def _no_id_result(path: str) -> workflow.Result:
    errors = UserErrors()
    errors.add("NOT_FOUND", "No object has this id.", *path.split("."))
    return workflow.Result(errors=errors)


# ---------------------------------------------------------------- roots


async def _quote_request_node(info: Info, key: str) -> QuoteRequest | None:
    if not key.isdigit():
        return None
    row = await reads.visible_request(info.context.loaders.quotes, await info.context.viewer(), int(key))
    return QuoteRequest.of(row) if row else None


async def _distributor_quote_node(info: Info, key: str) -> DistributorQuote | None:
    if not key.isdigit():
        return None
    row = await reads.visible_quote(info.context.loaders.quotes, await info.context.viewer(), int(key))
    return DistributorQuote.of(row) if row else None


NODE_RESOLVERS: dict[str, Callable[[Info, str], Awaitable[Node | None]]] = {
    "QuoteRequest": _quote_request_node,
    "DistributorQuote": _distributor_quote_node,
}


@strawberry.type
class QuotesQuery:
    @strawberry.field(extensions=guarded())
    async def quote_request(self, info: Info, id: strawberry.ID) -> QuoteRequest | None:
        key = _key_of(id, "QuoteRequest")
        return None if key is None else await _quote_request_node(info, str(key))

    @strawberry.field(
        extensions=guarded(),
        description="A reseller sees its own, a distributor those sent to it, staff all. Newest first.",
    )
    async def quote_requests(
        self,
        info: Info,
        status: QuoteRequestStatus | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> QuoteRequestConnection:
        viewer = await info.context.viewer()
        assert viewer is not None  # the guard lets no anonymous caller through
        wanted = status.value if status else None
        page, scope = await reads.requests_page(info.context.db, viewer, wanted, first, after)
        db = info.context.db
        return QuoteRequestConnection(
            edges=[
                QuoteRequestEdge(cursor=c, node=QuoteRequest.of(r))
                for c, r in zip(page.cursors, page.items, strict=True)
            ],
            page_info=PageInfo.of(page),
            count=lambda: reads.requests_count(db, scope, wanted),
        )


@strawberry.type
class QuotesMutation:
    @strawberry.mutation(
        extensions=guarded(),
        description="Ask for quotes: the live distributors are asked at once, the MANUAL ones find it in "
        "their quoteRequests. At most 500 lines after categories and groups are expanded.",
    )
    async def request_quote(self, info: Info, input: RequestQuoteInput) -> QuoteRequestPayload:
        data = workflow.RequestQuoteData(
            items=[
                workflow.QuoteItemData(
                    quantity=i.quantity, sku=i.sku, category_code=i.category_code, group_code=i.group_code
                )
                for i in input.items
            ],
            currency=input.currency,
            distributor_codes=input.distributor_codes,
        )
        return await request_quote_of(info, data)

    @strawberry.mutation(
        extensions=guarded(), description="Asks again the distributors whose quote is UNAVAILABLE."
    )
    async def refresh_quotes(self, info: Info, quote_request_id: strawberry.ID) -> QuoteRequestPayload:
        key = _key_of(quote_request_id, "QuoteRequest")
        if key is None:
            return await _request_payload(info, _no_id_result("quoteRequestId"))
        viewer = await info.context.viewer()
        result = await _in_unit(
            info, lambda unit: workflow.prepare_refresh(unit.session, viewer, key, reads.utcnow())
        )
        if not result.errors:
            await _ask_and_store(info, result.ask)
        return await _request_payload(info, result)

    @strawberry.mutation(
        extensions=guarded(),
        description="A distributor's rep answers a quote request sent to its distributor (a MANUAL quote).",
    )
    async def respond_to_quote_request(
        self, info: Info, input: QuoteResponseInput
    ) -> DistributorQuotePayload:
        viewer = await info.context.viewer()
        policy = await info.context.policy()
        lines = [
            workflow.QuoteLineData(
                sku=line.sku,
                quantity=line.quantity,
                available=line.available,
                unit_price=line.unit_price,
                available_quantity=line.available_quantity,
                lead_time_days=line.lead_time_days,
            )
            for line in input.lines
        ]
        request_id = _key_of(input.quote_request_id, "QuoteRequest")
        result = await _in_unit(
            info,
            lambda unit: workflow.respond(
                unit.session, viewer, policy, request_id, lines, input.valid_until, reads.utcnow()
            ),
        )
        return await _quote_payload(info, result)

    @strawberry.mutation(
        extensions=guarded(),
        description="Accept one OFFERED, unexpired quote: the request becomes ACCEPTED, its other quotes DECLINED.",
    )
    async def accept_quote(self, info: Info, id: strawberry.ID) -> DistributorQuotePayload:
        viewer = await info.context.viewer()
        quote_id = _key_of(id, "DistributorQuote")
        result = await _in_unit(
            info, lambda unit: workflow.accept(unit.session, viewer, quote_id, reads.utcnow())
        )
        return await _quote_payload(info, result)

    @strawberry.mutation(extensions=guarded(), description="Cancel an open quote request of your reseller.")
    async def cancel_quote_request(self, info: Info, id: strawberry.ID) -> QuoteRequestPayload:
        viewer = await info.context.viewer()
        request_id = _key_of(id, "QuoteRequest")
        result = await _in_unit(
            info, lambda unit: workflow.cancel(unit.session, viewer, request_id, reads.utcnow())
        )
        return await _request_payload(info, result)
