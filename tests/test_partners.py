"""Partners over GraphQL: sign-in, reseller registration and approval, users, links, visibility, batching."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from datasources.partners.models import Reseller, ResellerStatusChange, User
from hub_graphql.settings import Settings
from hub_graphql.types.common import global_id
from resolvers import partners as partners_resolvers
from tests.harness import Hub, QueryCounter, codes_of, open_hub, post_escaped
from tests.mail_server import SmtpServer, delivering, eventually
from tests.orders_factory import outbox
from tests.partners_factory import partner_world

LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    token viewer { email roles reseller { code status } distributor { code } } userErrors { field code }
  }
}"""
VIEWER = "{ viewer { email roles reseller { code status } distributor { code } } }"
REGISTER = """
mutation($input: RegisterResellerInput!) {
  registerReseller(input: $input) { reseller { code name status region contactEmail } userErrors { field code } }
}"""
APPROVE = "mutation($code: String!) { approveReseller(code: $code) { reseller { code status } userErrors { field code message } } }"
REJECT = """mutation($code: String!, $reason: String) {
  rejectReseller(code: $code, reason: $reason) { reseller { code status } userErrors { field code message } }
}"""
SUSPEND = """mutation($code: String!, $reason: String) {
  suspendReseller(code: $code, reason: $reason) { reseller { code status } userErrors { field code message } }
}"""
HISTORY = """query($code: String!) {
  reseller(code: $code) { status statusHistory { fromStatus toStatus changedBy reason changedAt } }
}"""
CONNECT = """mutation($r: String!, $d: String!) {
  connectReseller(resellerCode: $r, distributorCode: $d) { reseller { code distributors { code } } userErrors { field code } }
}"""
CREATE_USER = """
mutation($input: CreateUserInput!) {
  createUser(input: $input) { viewer { email roles reseller { code } distributor { code } } userErrors { field code } }
}"""
RESELLERS = """
query($status: PartnerStatus, $first: Int, $after: String) {
  resellers(status: $status, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { code status } }
  }
}"""
RESELLERS_WITH_RELATIONS = """
query($first: Int) {
  resellers(first: $first) {
    edges { node { code distributors { code resellers { code } } statusHistory { toStatus } } }
  }
}"""
ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Reseller { code status }
    ... on Distributor { code quoteEndpoint }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Reseller { code } ... on Distributor { code } } }"
POLICIES = "{ hubPolicies { currencies defaultCurrency } }"
ALL_POLICIES = """{ hubPolicies {
  resellerApproval defaultCurrency currencies quoteValidityHours liveQuoteTimeoutMs paymentMethods
} }"""
UPDATE_POLICIES = """
mutation($input: HubPoliciesInput!) {
  updateHubPolicies(input: $input) {
    hubPolicies { resellerApproval defaultCurrency currencies quoteValidityHours liveQuoteTimeoutMs paymentMethods }
    userErrors { field code message }
  }
}"""


def registration(code: str, **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"Reseller {code}",
        "contactEmail": f"owner@{code.lower()}.example",
        "password": "a-long-password",
        **fields,
    }


async def count(hub: Hub, model: type) -> int:
    async with hub.resources.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# ---------------------------------------------------------------- sign-in


async def test_login_gives_a_token_that_names_the_viewer(hub: Hub) -> None:
    await hub.user("CATALOG_MANAGER", email="cat@hub.example", password="right-password")
    data = await hub.query(LOGIN, {"email": "Cat@Hub.example", "password": "right-password"})
    login = data["login"]
    assert login["userErrors"] == []
    assert login["viewer"] == {
        "email": "cat@hub.example",
        "roles": ["CATALOG_MANAGER"],
        "reseller": None,
        "distributor": None,
    }
    viewer = await hub.query(VIEWER, token=login["token"])
    assert viewer["viewer"]["email"] == "cat@hub.example"
    assert (await hub.query(VIEWER))["viewer"] is None


@pytest.mark.parametrize(
    ("email", "password"), [("cat@hub.example", "wrong-password"), ("nobody@hub.example", "x")]
)
async def test_a_wrong_sign_in_gives_one_vague_error(hub: Hub, email: str, password: str) -> None:
    await hub.user("CATALOG_MANAGER", email="cat@hub.example", password="right-password")
    login = (await hub.query(LOGIN, {"email": email, "password": password}))["login"]
    assert login == {
        "token": None,
        "viewer": None,
        "userErrors": [{"field": ["password"], "code": "INVALID_CREDENTIALS"}],
    }


# ---------------------------------------------------------------- registration and approval


async def test_registration_is_pending_and_its_user_can_sign_in(hub: Hub) -> None:
    data = await hub.query(REGISTER, {"input": registration("ACME", region="EU")})
    assert data["registerReseller"] == {
        "reseller": {
            "code": "ACME",
            "name": "Reseller ACME",
            "status": "PENDING",
            "region": "EU",
            "contactEmail": "owner@acme.example",
        },
        "userErrors": [],
    }
    login = (await hub.query(LOGIN, {"email": "owner@acme.example", "password": "a-long-password"}))["login"]
    assert login["viewer"]["roles"] == ["RESELLER_ADMIN"]
    assert login["viewer"]["reseller"] == {"code": "ACME", "status": "PENDING"}


async def test_a_registration_overtaken_by_a_concurrent_one_is_a_conflict_and_writes_nothing(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: ACME registered; then a second request whose check ran before the first one committed
    # (on PostgreSQL two registrations can interleave so; here the check is made to miss on purpose)
    await hub.query(REGISTER, {"input": registration("ACME")})
    resellers, users = await count(hub, Reseller), await count(hub, User)

    async def no_reseller_yet(_session: Any, _code: str) -> None:
        return None

    monkeypatch.setattr(partners_resolvers.queries, "reseller_by_code", no_reseller_yet)
    # when: the same code again, with another e-mail, so that only the database's constraint stands in the way
    body = await hub.post(REGISTER, {"input": {**registration("ACME"), "contactEmail": "other@acme.example"}})
    # then: a CONFLICT error that says to try again, not an internal error; nothing written
    assert codes_of(body) == ["CONFLICT"]
    assert "Try again" in body["errors"][0]["message"]
    assert "INSERT" not in body["errors"][0]["message"] and "UNIQUE" not in body["errors"][0]["message"]
    assert (await count(hub, Reseller), await count(hub, User)) == (resellers, users)
    # and: tried again (the check now sees the first registration), it is the usual userError
    monkeypatch.undo()
    data = await hub.query(
        REGISTER, {"input": {**registration("ACME"), "contactEmail": "other@acme.example"}}
    )
    assert data["registerReseller"]["userErrors"] == [{"field": ["input", "code"], "code": "DUPLICATE"}]


async def test_registration_is_approved_at_once_when_the_policy_is_automatic(hub: Hub) -> None:
    admin = await hub.staff()
    await hub.query(UPDATE_POLICIES, {"input": {"resellerApproval": "AUTOMATIC"}}, token=admin)
    data = await hub.query(REGISTER, {"input": registration("FAST")})
    assert data["registerReseller"]["reseller"]["status"] == "APPROVED"
    history = await hub.query(HISTORY, {"code": "FAST"}, token=admin)
    assert [(h["fromStatus"], h["toStatus"]) for h in history["reseller"]["statusHistory"]] == [
        (None, "APPROVED")
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"code": "has space"}, [("INVALID_CODE", ["input", "code"])]),
        ({"name": ""}, [("INVALID_NAME", ["input", "name"])]),
        ({"contactEmail": "not-an-email"}, [("INVALID_EMAIL", ["input", "contactEmail"])]),
        ({"password": "short"}, [("WEAK_PASSWORD", ["input", "password"])]),
        ({"code": "TAKEN"}, [("DUPLICATE", ["input", "code"])]),
        # a taken e-mail is no error (the next test): the other errors come as for any address
        (
            {"contactEmail": "owner@taken.example", "password": "short"},
            [("WEAK_PASSWORD", ["input", "password"])],
        ),
        ({"contactEmail": "owner@taken.example", "code": "TAKEN"}, [("DUPLICATE", ["input", "code"])]),
    ],
)
async def test_bad_registrations_are_user_errors_and_write_nothing(
    hub: Hub, fields: dict[str, Any], expected: list[tuple[str, list[str]]]
) -> None:
    await hub.query(REGISTER, {"input": registration("TAKEN")})
    before = (await count(hub, Reseller), await count(hub, User), await count(hub, ResellerStatusChange))
    data = await hub.query(REGISTER, {"input": {**registration("NEW"), **fields}})
    payload = data["registerReseller"]
    assert payload["reseller"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == expected
    assert (
        await count(hub, Reseller),
        await count(hub, User),
        await count(hub, ResellerStatusChange),
    ) == before


async def test_a_taken_email_answers_as_a_fresh_registration_and_tells_the_owner(hub: Hub) -> None:
    # given: a registered reseller whose owner's address is owner@taken.example
    await hub.query(REGISTER, {"input": registration("TAKEN")})
    before = (await count(hub, Reseller), await count(hub, User), await count(hub, ResellerStatusChange))
    mail_before = await outbox(hub)
    # when: someone registers another reseller with that address (in another case), and someone else
    # registers with an address nobody has
    taken = await hub.post(
        REGISTER,
        {"input": registration("PROBE", contactEmail="Owner@Taken.example", password="prober-password")},
    )
    fresh = await hub.post(REGISTER, {"input": registration("PROBE2", contactEmail="owner@probe.example")})
    # then: the two answers differ only by what the callers typed; neither says the address is taken
    assert taken == {
        "data": {
            "registerReseller": {
                "reseller": {
                    "code": "PROBE",
                    "name": "Reseller PROBE",
                    "status": "PENDING",
                    "region": None,
                    "contactEmail": "owner@taken.example",
                },
                "userErrors": [],
            }
        }
    }
    assert fresh["data"]["registerReseller"] == {
        "reseller": {
            **taken["data"]["registerReseller"]["reseller"],
            "code": "PROBE2",
            "name": "Reseller PROBE2",
            "contactEmail": "owner@probe.example",
        },
        "userErrors": [],
    }
    # and: for the taken address nothing was written but one e-mail to its owner, naming the attempt
    assert (await count(hub, Reseller), await count(hub, User), await count(hub, ResellerStatusChange)) == (
        before[0] + 1,
        before[1] + 1,
        before[2] + 1,
    )
    new_mail = [m for m in await outbox(hub) if m.id not in {o.id for o in mail_before}]
    told = [m.payload for m in new_mail if m.payload["to"] == "owner@taken.example"]
    assert len(told) == 1
    assert told[0]["subject"] == "Someone tried to register with your e-mail address"
    assert "'PROBE'" in told[0]["text"] and "no reseller and no account were made" in told[0]["text"]
    # and: the owner still signs in with the old password, the prober's password opens nothing
    assert (await hub.query(LOGIN, {"email": "owner@taken.example", "password": "a-long-password"}))["login"][
        "userErrors"
    ] == []
    assert (await hub.post(LOGIN, {"email": "owner@taken.example", "password": "prober-password"}))["data"][
        "login"
    ]["userErrors"] != []


async def test_the_owner_of_a_taken_email_gets_the_message_by_smtp(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    async with open_hub(delivering(settings, smtp_server.url)) as hub:
        await hub.query(REGISTER, {"input": registration("TAKEN")})
        await hub.query(REGISTER, {"input": registration("PROBE", contactEmail="owner@taken.example")})

        async def received() -> bool:
            return len(smtp_server.inbox.messages) >= 1

        await eventually(received, within=10, what="the owner is told")
        [message] = smtp_server.inbox.messages
        assert smtp_server.inbox.envelopes[0][1] == ["owner@taken.example"]
        assert str(message["Subject"]) == "Someone tried to register with your e-mail address"
        assert "'PROBE'" in message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


async def test_the_state_machine_and_its_history(hub: Hub) -> None:
    manager = await hub.user("CHANNEL_MANAGER", email="manager@hub.example")
    await hub.query(REGISTER, {"input": registration("R1")})
    steps = [
        (SUSPEND, {"code": "R1"}, None, "INVALID_STATE"),  # a pending reseller cannot be suspended
        (APPROVE, {"code": "R1"}, "APPROVED", None),
        (APPROVE, {"code": "R1"}, None, "INVALID_STATE"),  # never a silent no-op
        (REJECT, {"code": "R1", "reason": "late"}, None, "INVALID_STATE"),
        (SUSPEND, {"code": "R1", "reason": "unpaid invoices"}, "SUSPENDED", None),
        (APPROVE, {"code": "R1"}, "APPROVED", None),
        (APPROVE, {"code": "NOPE"}, None, "NOT_FOUND"),
    ]
    for document, variables, status, error in steps:
        payload = next(iter((await hub.query(document, variables, token=manager)).values()))
        if error:
            assert payload["reseller"] is None and [e["code"] for e in payload["userErrors"]] == [error], (
                payload
            )
        else:
            assert payload == {"reseller": {"code": "R1", "status": status}, "userErrors": []}
    history = (await hub.query(HISTORY, {"code": "R1"}, token=manager))["reseller"]
    assert history["status"] == "APPROVED"
    assert [
        (h["fromStatus"], h["toStatus"], h["changedBy"], h["reason"]) for h in history["statusHistory"]
    ] == [
        (None, "PENDING", "owner@r1.example", "registered"),
        ("PENDING", "APPROVED", "manager@hub.example", None),
        ("APPROVED", "SUSPENDED", "manager@hub.example", "unpaid invoices"),
        ("SUSPENDED", "APPROVED", "manager@hub.example", None),
    ]
    assert all(h["changedAt"] for h in history["statusHistory"])


async def test_a_rejected_reseller_stays_rejected(hub: Hub) -> None:
    manager = await hub.staff("CHANNEL_MANAGER")
    await hub.query(REGISTER, {"input": registration("R2")})
    rejected = await hub.query(REJECT, {"code": "R2", "reason": "no tax id"}, token=manager)
    assert rejected["rejectReseller"]["reseller"]["status"] == "REJECTED"
    again = await hub.query(APPROVE, {"code": "R2"}, token=manager)
    assert [e["code"] for e in again["approveReseller"]["userErrors"]] == ["INVALID_STATE"]


async def test_a_suspended_resellers_user_signs_in_but_is_not_approved(hub: Hub) -> None:
    world = await partner_world(hub)
    await hub.user(
        "RESELLER_ADMIN",
        email="s@r.example",
        password="pw-suspended",
        reseller_id=world.resellers["R-SUSPENDED"],
    )
    login = (await hub.query(LOGIN, {"email": "s@r.example", "password": "pw-suspended"}))["login"]
    assert login["viewer"]["reseller"] == {"code": "R-SUSPENDED", "status": "SUSPENDED"}


# ---------------------------------------------------------------- users


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"roles": ["RESELLER_ADMIN"]}, [("REQUIRED", ["input", "resellerCode"])]),
        ({"roles": ["RESELLER_ADMIN"], "resellerCode": "NOPE"}, [("NOT_FOUND", ["input", "resellerCode"])]),
        ({"roles": ["DISTRIBUTOR_REP"]}, [("REQUIRED", ["input", "distributorCode"])]),
        (
            {"roles": ["SITE_ADMIN", "RESELLER_ADMIN"], "resellerCode": "R-APPROVED"},
            [("INVALID_ROLE", ["input", "roles"])],
        ),
        (
            {"roles": ["CATALOG_MANAGER"], "resellerCode": "R-APPROVED"},
            [("INVALID_ROLE", ["input", "resellerCode"])],
        ),
        ({"roles": []}, [("INVALID_ROLE", ["input", "roles"])]),
        ({"email": "taken@hub.example"}, [("DUPLICATE", ["input", "email"])]),
        ({"password": "short"}, [("WEAK_PASSWORD", ["input", "password"])]),
    ],
)
async def test_create_user_refuses_bad_input(
    hub: Hub, fields: dict[str, Any], expected: list[tuple[str, list[str]]]
) -> None:
    await partner_world(hub)
    admin = await hub.user("SITE_ADMIN", email="taken@hub.example")
    users_before = await count(hub, User)
    user = {"email": "new@hub.example", "password": "long-enough", "roles": ["CATALOG_MANAGER"], **fields}
    payload = (await hub.query(CREATE_USER, {"input": user}, token=admin))["createUser"]
    assert payload["viewer"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == expected
    assert await count(hub, User) == users_before


async def test_create_user_makes_partner_users_who_can_sign_in(hub: Hub) -> None:
    await partner_world(hub)
    admin = await hub.staff()
    rep = {
        "email": "Rep@D1.example",
        "password": "rep-password",
        "roles": ["DISTRIBUTOR_REP"],
        "distributorCode": "D-ONE",
    }
    payload = (await hub.query(CREATE_USER, {"input": rep}, token=admin))["createUser"]
    assert payload == {
        "viewer": {
            "email": "rep@d1.example",
            "roles": ["DISTRIBUTOR_REP"],
            "reseller": None,
            "distributor": {"code": "D-ONE"},
        },
        "userErrors": [],
    }
    login = (await hub.query(LOGIN, {"email": "rep@d1.example", "password": "rep-password"}))["login"]
    assert login["viewer"]["distributor"] == {"code": "D-ONE"}


# ---------------------------------------------------------------- links and visibility


async def test_connect_links_once_and_each_side_sees_its_own(hub: Hub) -> None:
    world = await partner_world(hub)
    manager = await hub.staff("CHANNEL_MANAGER")
    for _ in range(2):  # connecting twice changes nothing
        payload = (await hub.query(CONNECT, {"r": "R-APPROVED", "d": "D-TWO"}, token=manager))[
            "connectReseller"
        ]
        assert payload == {
            "reseller": {"code": "R-APPROVED", "distributors": [{"code": "D-ONE"}, {"code": "D-TWO"}]},
            "userErrors": [],
        }
    missing = (await hub.query(CONNECT, {"r": "NOPE", "d": "NADA"}, token=manager))["connectReseller"]
    assert [(e["code"], e["field"]) for e in missing["userErrors"]] == [
        ("NOT_FOUND", ["resellerCode"]),
        ("NOT_FOUND", ["distributorCode"]),
    ]
    own = await hub.user("RESELLER_ADMIN", reseller_id=world.resellers["R-APPROVED"])
    query = "query($c: String!) { reseller(code: $c) { code distributors { code } } }"
    assert (await hub.query(query, {"c": "R-APPROVED"}, token=own))["reseller"]["distributors"] == [
        {"code": "D-ONE"},
        {"code": "D-TWO"},
    ]
    assert (await hub.query(query, {"c": "R-OTHER"}, token=own))[
        "reseller"
    ] is None  # another reseller's data
    rep_one = await hub.user("DISTRIBUTOR_REP", distributor_id=world.distributors["D-ONE"])
    rep_two = await hub.user("DISTRIBUTOR_REP", distributor_id=world.distributors["D-TWO"])
    links = "{ distributors { code resellers { code } } }"
    assert (await hub.query(links, token=rep_one))["distributors"] == [
        {"code": "D-ONE", "resellers": [{"code": "R-APPROVED"}, {"code": "R-SUSPENDED"}]},
        {"code": "D-TWO", "resellers": []},  # another distributor's resellers are not shown
    ]
    assert (await hub.query(links, token=rep_two))["distributors"][1]["resellers"] == [
        {"code": "R-APPROVED"},
        {"code": "R-OTHER"},
    ]


async def test_quote_endpoints_are_for_site_admins_and_the_distributors_own_reps(hub: Hub) -> None:
    world = await partner_world(hub)
    query = '{ distributor(code: "D-ONE") { quoteEndpoint } }'
    callers = {
        "SITE_ADMIN": await hub.staff("SITE_ADMIN"),
        "CHANNEL_MANAGER": await hub.staff("CHANNEL_MANAGER"),
        "own rep": await hub.user("DISTRIBUTOR_REP", distributor_id=world.distributors["D-ONE"]),
        "other rep": await hub.user("DISTRIBUTOR_REP", distributor_id=world.distributors["D-TWO"]),
        "reseller": await hub.user("RESELLER_ADMIN", reseller_id=world.resellers["R-APPROVED"]),
    }
    seen = {
        name: (await hub.query(query, token=token))["distributor"]["quoteEndpoint"]
        for name, token in callers.items()
    }
    endpoint = "http://127.0.0.1:9/quote"
    assert seen == {
        "SITE_ADMIN": endpoint,
        "CHANNEL_MANAGER": None,
        "own rep": endpoint,
        "other rep": None,
        "reseller": None,
    }


async def test_only_staff_see_distributors_that_are_not_approved(hub: Hub) -> None:
    world = await partner_world(hub)
    staff = await hub.staff("CUSTOMER_SERVICE")
    reseller = await hub.user("RESELLER_ADMIN", reseller_id=world.resellers["R-APPROVED"])
    query = '{ distributors { code } hidden: distributor(code: "D-HIDDEN") { code } }'
    assert await hub.query(query, token=staff) == {
        "distributors": [{"code": "D-HIDDEN"}, {"code": "D-ONE"}, {"code": "D-TWO"}],
        "hidden": {"code": "D-HIDDEN"},
    }
    assert await hub.query(query, token=reseller) == {
        "distributors": [{"code": "D-ONE"}, {"code": "D-TWO"}],
        "hidden": None,
    }
    filtered = await hub.query("{ distributors(status: SUSPENDED) { code } }", token=staff)
    assert filtered["distributors"] == [{"code": "D-HIDDEN"}]


async def test_entities_keep_the_visibility_rules(hub: Hub) -> None:
    world = await partner_world(hub)
    representations = [
        {"__typename": "Reseller", "code": "R-APPROVED"},
        {"__typename": "Reseller", "code": "R-OTHER"},
        {"__typename": "Reseller", "code": "NOPE"},
        {"__typename": "Distributor", "code": "D-ONE"},
        {"__typename": "Distributor", "code": "D-HIDDEN"},
    ]
    variables = {"representations": representations}
    staff = await hub.staff("SITE_ADMIN")
    own = await hub.user("RESELLER_ADMIN", reseller_id=world.resellers["R-APPROVED"])
    assert (await hub.query(ENTITIES, variables, token=staff))["_entities"] == [
        {"code": "R-APPROVED", "status": "APPROVED"},
        {"code": "R-OTHER", "status": "APPROVED"},
        None,
        {"code": "D-ONE", "quoteEndpoint": "http://127.0.0.1:9/quote"},
        {"code": "D-HIDDEN", "quoteEndpoint": None},
    ]
    assert (await hub.query(ENTITIES, variables, token=own))["_entities"] == [
        {"code": "R-APPROVED", "status": "APPROVED"},
        None,
        None,
        {"code": "D-ONE", "quoteEndpoint": None},
        None,
    ]
    assert (await hub.query(ENTITIES, variables))["_entities"] == [None] * 5


async def test_node_finds_resellers_and_distributors_by_global_id(hub: Hub) -> None:
    await partner_world(hub)
    staff = await hub.staff()
    reseller = await hub.query(NODE, {"id": global_id("Reseller", "R-OTHER")}, token=staff)
    distributor = await hub.query(NODE, {"id": global_id("Distributor", "D-TWO")}, token=staff)
    assert reseller["node"]["code"] == "R-OTHER"
    assert distributor["node"]["code"] == "D-TWO"
    assert (await hub.query(NODE, {"id": global_id("Reseller", "R-OTHER")}))["node"] is None


# ---------------------------------------------------------------- lists and batching


async def test_resellers_page_by_code_with_a_status_filter(hub: Hub) -> None:
    async with hub.resources.session_factory() as session, session.begin():
        for i in range(25):
            status = "APPROVED" if i % 5 else "PENDING"
            session.add(
                Reseller(code=f"R{i:02d}", name=f"R{i}", status=status, contact_email=f"r{i}@x.example")
            )
    staff = await hub.staff("MARKETING_MANAGER")
    first = (await hub.query(RESELLERS, {"first": 10}, token=staff))["resellers"]
    assert first["totalCount"] == 25
    assert [e["node"]["code"] for e in first["edges"]] == [f"R{i:02d}" for i in range(10)]
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    second = (
        await hub.query(RESELLERS, {"first": 10, "after": first["pageInfo"]["endCursor"]}, token=staff)
    )["resellers"]
    assert [e["node"]["code"] for e in second["edges"]] == [f"R{i:02d}" for i in range(10, 20)]
    pending = (await hub.query(RESELLERS, {"status": "PENDING"}, token=staff))["resellers"]
    assert pending["totalCount"] == 5 and {e["node"]["status"] for e in pending["edges"]} == {"PENDING"}
    for bad in ({"first": 101}, {"first": 0}, {"after": "not-a-cursor"}):
        assert codes_of(await hub.post(RESELLERS, bad, token=staff)) == ["BAD_USER_INPUT"]


async def test_reseller_relations_are_batched(hub: Hub, count_queries: QueryCounter) -> None:
    world = await partner_world(hub)
    staff = await hub.staff()
    await hub.query(RESELLERS_WITH_RELATIONS, {"first": 2}, token=staff)  # warm: viewer and policy lookups
    count_queries.reset()
    small = await hub.query(RESELLERS_WITH_RELATIONS, {"first": 2}, token=staff)
    few = count_queries.count
    async with hub.resources.session_factory() as session, session.begin():
        for i in range(30):
            session.add(
                Reseller(code=f"X{i:02d}", name="X", status="APPROVED", contact_email=f"x{i}@x.example")
            )
            session.add(ResellerStatusChange(reseller_id=world.resellers["R-APPROVED"], to_status="APPROVED"))
    count_queries.reset()
    large = await hub.query(RESELLERS_WITH_RELATIONS, {"first": 34}, token=staff)
    assert len(large["resellers"]["edges"]) == 34 and len(small["resellers"]["edges"]) == 2
    assert count_queries.count == few, count_queries.statements


async def test_entities_are_resolved_in_one_batch(hub: Hub, count_queries: QueryCounter) -> None:
    await partner_world(hub)
    staff = await hub.staff()
    one = {"representations": [{"__typename": "Reseller", "code": "R-APPROVED"}]}
    many = {
        "representations": [
            {"__typename": "Reseller", "code": c}
            for c in ("R-APPROVED", "R-OTHER", "R-PENDING", "R-SUSPENDED")
        ]
        + [{"__typename": "Distributor", "code": c} for c in ("D-ONE", "D-TWO")]
    }
    count_queries.reset()
    await hub.query(ENTITIES, one, token=staff)
    baseline = count_queries.count
    count_queries.reset()
    data = await hub.query(ENTITIES, many, token=staff)
    assert [e["code"] for e in data["_entities"]] == [
        "R-APPROVED",
        "R-OTHER",
        "R-PENDING",
        "R-SUSPENDED",
        "D-ONE",
        "D-TWO",
    ]
    assert count_queries.count <= baseline + 1, count_queries.statements  # + the distributors' one batch


# ---------------------------------------------------------------- hub policies


async def test_currencies_and_payment_methods_are_public_and_the_rest_needs_a_sign_in(hub: Hub) -> None:
    assert (await hub.query(POLICIES))["hubPolicies"] == {
        "currencies": ["USD", "EUR"],
        "defaultCurrency": "USD",
    }
    # A storefront's customer is anonymous and chooses one of them at checkout.
    assert (await hub.query("{ hubPolicies { paymentMethods } }"))["hubPolicies"] == {
        "paymentMethods": ["INVOICE", "CREDIT_CARD"]
    }
    anonymous = await hub.post(ALL_POLICIES)
    assert anonymous["data"] is None and set(codes_of(anonymous)) == {"UNAUTHENTICATED"}
    signed_in = await hub.user("CUSTOMER")
    assert (await hub.query(ALL_POLICIES, token=signed_in))["hubPolicies"] == {
        "resellerApproval": "MANUAL",
        "defaultCurrency": "USD",
        "currencies": ["USD", "EUR"],
        "quoteValidityHours": 72,
        "liveQuoteTimeoutMs": 1500,
        "paymentMethods": ["INVOICE", "CREDIT_CARD"],
    }


async def test_update_hub_policies_stores_once(hub: Hub) -> None:
    admin = await hub.staff()
    changes = {
        "currencies": ["EUR", "JPY"],
        "defaultCurrency": "JPY",
        "quoteValidityHours": 24,
        "paymentMethods": ["INVOICE"],
    }
    for _ in range(2):
        payload = (await hub.query(UPDATE_POLICIES, {"input": changes}, token=admin))["updateHubPolicies"]
        assert payload["userErrors"] == []
    assert (await hub.query(ALL_POLICIES, token=admin))["hubPolicies"] == {
        "resellerApproval": "MANUAL",
        "defaultCurrency": "JPY",
        "currencies": ["EUR", "JPY"],
        "quoteValidityHours": 24,
        "liveQuoteTimeoutMs": 1500,
        "paymentMethods": ["INVOICE"],
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"currencies": ["USD", "XXY"]}, [("INVALID_CURRENCY", ["input", "currencies", "1"])]),
        (
            {"currencies": ["usd"]},
            [
                ("INVALID_CURRENCY", ["input", "currencies", "0"]),
                ("INVALID_CURRENCY", ["input", "defaultCurrency"]),
            ],
        ),
        (
            {"currencies": []},
            [("REQUIRED", ["input", "currencies"]), ("INVALID_CURRENCY", ["input", "defaultCurrency"])],
        ),
        ({"currencies": ["EUR"]}, [("INVALID_CURRENCY", ["input", "defaultCurrency"])]),
        ({"defaultCurrency": "GBP"}, [("INVALID_CURRENCY", ["input", "defaultCurrency"])]),
        ({"defaultCurrency": "ZZZ"}, [("INVALID_CURRENCY", ["input", "defaultCurrency"])]),
        ({"currencies": ["EUR", "EUR", "USD"]}, [("DUPLICATE", ["input", "currencies"])]),
        ({"quoteValidityHours": 0}, [("OUT_OF_RANGE", ["input", "quoteValidityHours"])]),
        ({"liveQuoteTimeoutMs": 10}, [("OUT_OF_RANGE", ["input", "liveQuoteTimeoutMs"])]),
        ({"liveQuoteTimeoutMs": 600_000}, [("OUT_OF_RANGE", ["input", "liveQuoteTimeoutMs"])]),
        ({"paymentMethods": []}, [("REQUIRED", ["input", "paymentMethods"])]),
        ({"paymentMethods": ["cash money"]}, [("INVALID_PAYMENT_METHOD", ["input", "paymentMethods", "0"])]),
        (
            {"quoteValidityHours": 100_000, "currencies": ["EUR", "NOPE"]},
            [
                ("INVALID_CURRENCY", ["input", "currencies", "1"]),
                ("INVALID_CURRENCY", ["input", "defaultCurrency"]),
                ("OUT_OF_RANGE", ["input", "quoteValidityHours"]),
            ],
        ),
    ],
)
async def test_bad_policies_are_user_errors_and_change_nothing(
    hub: Hub, changes: dict[str, Any], expected: list[tuple[str, list[str]]]
) -> None:
    admin = await hub.staff()
    before = await hub.query(ALL_POLICIES, token=admin)
    payload = (await hub.query(UPDATE_POLICIES, {"input": changes}, token=admin))["updateHubPolicies"]
    assert payload["hubPolicies"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == expected
    assert await hub.query(ALL_POLICIES, token=admin) == before


# ---------------------------------------------------------------- found by the fuzz run (tests/test_fuzz.py)


@pytest.mark.parametrize("email", ["cat\x00@hub.example", "cat@hub.example\udc00"])
async def test_signing_in_with_a_nul_or_a_lone_surrogate_is_bad_input_not_an_unexpected_error(
    hub: Hub, email: str
) -> None:
    await hub.user("CATALOG_MANAGER", email="cat@hub.example", password="right-password")

    body = await post_escaped(hub, LOGIN, {"email": email, "password": "right-password"})

    assert body.get("data") is None
    assert codes_of(body) == ["BAD_USER_INPUT"]
    assert "variable `$email`" in body["errors"][0]["message"]
