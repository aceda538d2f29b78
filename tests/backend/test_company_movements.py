"""A company's beneficiary movements one by one (seed 003, "Movimentação cadastral"): what the HR user
sees — a protocol of their company, the new card at once, who is active afterwards — and the "no"
of each rule they can hit. A beneficiary is only ever reached by a user of their own company."""

from __future__ import annotations

from datetime import timedelta

import pytest
from backend_api import MARIA
from company_support import DIEGO_CODE, OTHER, add_other_company, login_headers, verified_headers
from sqlalchemy import select, update

from backend.clock import local_today
from backend.company.movement_rules import RETROACTIVE_WARNING, add_months
from backend.models import Beneficiary, Company, CompanyMovement, CompanyUser, Plan, Protocol
from backend.passwords import hash_password

pytestmark = pytest.mark.asyncio

PAULO, LIVIA, RENATA = "500100000101", "500100000102", "500100000201"
PAULO_CPF, RENATA_CPF = "318.640.275-17", "472.915.806-76"
BRUNO = {
    "name": "Bruno Almeida",
    "cpf": "650.283.194-05",
    "birth_date": "09/09/1995",
    "mother_name": "Cláudia Almeida",
    "plan": "odonto essencial",  # case and accents do not matter
}
GROUP_USER = {"user_code": "RH500201", "password": "Grupo@2024"}


def cpf(base: int) -> str:
    """A valid CPF made of a 9-digit base and its check digits."""
    digits = [int(c) for c in f"{base:09d}"]
    for size in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(size + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


def iso(day) -> str:
    return day.isoformat()


async def move(client, headers, path, body):
    response = await client.post(f"/api/company/movements/{path}", json=body, headers=headers)
    return response.status, await response.json()


async def person(session, card) -> Beneficiary:
    """The beneficiary as stored now (the test's session holds no transaction afterwards)."""
    query = select(Beneficiary).where(Beneficiary.card_number == card).execution_options(populate_existing=True)
    found = (await session.execute(query)).unique().scalar_one()
    await session.commit()
    return found


async def add_group_user(session) -> None:
    """A portal user of Horizonte Incorporações (500200, the group company)."""
    group = (await session.execute(select(Company).where(Company.code == "500200"))).scalar_one()
    session.add(
        CompanyUser(
            company_id=group.id,
            user_code=GROUP_USER["user_code"],
            name="Gustavo Lima",
            email="rh@incorporacoes.horizonte.exemplo.com.br",
            role="admin",
            password_hash=await hash_password(GROUP_USER["password"], 4),
        )
    )
    await session.commit()


@pytest.fixture
async def fernanda(client):
    return await login_headers(client)


# --- options --------------------------------------------------------------------------------------


async def test_the_options_offer_plans_dates_reasons_and_the_group(client, fernanda):
    response = await client.get("/api/company/movements/options", headers=fernanda)
    body = await response.json()
    assert response.status == 200 and body["plans"] == ["Odonto Essencial", "Odonto Plus"]
    today = local_today()
    following = add_months(today, 1)
    assert [d["date"] for d in body["start_dates"]] == [
        iso(add_months(today, -2)),
        iso(add_months(today, -1)),
        iso(add_months(today, 0)),
        iso(following),
    ]
    assert [d["retroactive"] for d in body["start_dates"]] == [True, True, True, False]
    assert body["retroactive_warning"] == RETROACTIVE_WARNING and "retroativa" in body["start_dates"][0]["label"]
    assert "óbito" in [r["label"] for r in body["exclusion_reasons"]]
    assert body["group_companies"] == [{"code": "500200", "name": "Horizonte Incorporações Ltda"}]
    assert body["exclusion_dates"]["first"] == iso(today)
    assert body["exclusion_dates"]["last"] == iso(add_months(today, 2) - timedelta(days=1))


# --- inclusion ------------------------------------------------------------------------------------


async def test_including_bruno_gives_a_new_card_and_a_protocol_of_the_company(client, session, fernanda):
    status, body = await move(client, fernanda, "inclusions", {**BRUNO, "channel": "rest"})
    assert status == 201, body
    card = body["beneficiary"]["card_number"]
    assert card == "500100000301" and len(card) == 12 and card.isdigit()  # a new family of the company
    assert body["beneficiary"]["plan"] == "Odonto Essencial" and body["beneficiary"]["kinship"] == "holder"
    assert body["effective_date"] == iso(add_months(local_today(), 1)) and body["retroactive"] is False
    assert body["protocol"] in body["message"] and "5001 0000 0301" in body["message"]
    bruno = await person(session, card)
    assert (bruno.name, bruno.cpf, bruno.status, bruno.mother_name) == (
        "Bruno Almeida",
        "65028319405",
        "active",
        "Cláudia Almeida",
    )
    company = (await session.execute(select(Company).where(Company.code == "500100"))).scalar_one()
    protocol = (await session.execute(select(Protocol).where(Protocol.number == body["protocol"]))).scalar_one()
    movement = (await session.execute(select(CompanyMovement))).scalar_one()
    await session.commit()
    assert (protocol.kind, protocol.company_id, bruno.company_id) == ("company_inclusion", company.id, company.id)
    assert (movement.kind, movement.beneficiary_id, movement.protocol_id) == ("inclusion", bruno.id, protocol.id)
    # the company's protocol lookup tells what was done
    lookup = await (await client.get(f"/api/company/protocols/{body['protocol']}", headers=fernanda)).json()
    assert lookup["kind_label"] == "inclusão de beneficiário"
    assert lookup["movement"]["kind"] == "inclusion" and "Bruno Almeida" in lookup["movement"]["summary"]
    plans = (await (await client.get("/api/company/plans", headers=fernanda)).json())["plans"]
    assert plans[0]["active_beneficiaries"] == 3


async def test_each_inclusion_gets_the_next_family_number(client, fernanda):
    first = await move(client, fernanda, "inclusions", BRUNO)
    other = {**BRUNO, "name": "Carla Nunes", "cpf": cpf(123456780)}
    second = await move(client, fernanda, "inclusions", other)
    assert [first[1]["beneficiary"]["card_number"], second[1]["beneficiary"]["card_number"]] == [
        "500100000301",
        "500100000401",
    ]


async def test_a_retroactive_start_is_allowed_and_warned(client, fernanda):
    start = add_months(local_today(), -2)
    status, body = await move(client, fernanda, "inclusions", {**BRUNO, "start_date": start.strftime("%d/%m/%Y")})
    assert status == 201 and body["retroactive"] is True and body["effective_date"] == iso(start)
    assert body["warning"] == RETROACTIVE_WARNING and body["message"].endswith(RETROACTIVE_WARNING)


async def test_a_child_is_included_under_paulo_in_his_family_and_plan(client, session, fernanda):
    child = {"name": "Theo Dias", "birth_date": "10/01/2020", "mother_name": "Carla Souza Dias"}
    status, body = await move(client, fernanda, "inclusions", {**child, "kinship": "filho", "holder": PAULO_CPF})
    assert status == 201, body
    assert body["beneficiary"]["card_number"] == "500100000103"  # Paulo's family, after Lívia (…102)
    assert body["beneficiary"]["plan"] == "Odonto Essencial" and body["beneficiary"]["kinship_label"] == (
        "dependente (filho)"
    )
    theo = await person(session, "500100000103")
    assert theo.holder_id == (await person(session, PAULO)).id and theo.cpf is None
    again = await move(client, fernanda, "inclusions", {**child, "kinship": "filho", "holder": PAULO})
    assert again[0] == 409 and again[1]["error"]["code"] == "dependent_already_included"


def _years_ago(years: int) -> str:
    today = local_today()
    return today.replace(year=today.year - years, day=min(today.day, 28)).strftime("%d/%m/%Y")


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"cpf": "650.283.194-06"}, 400, "invalid_request", "cpf"),  # check digits
        ({"cpf": PAULO_CPF}, 409, "cpf_already_active", "cpf"),  # duplicate inclusion
        ({"cpf": RENATA_CPF}, 409, "cpf_inactive_here", "cpf"),  # use the reactivation
        ({"cpf": MARIA["cpf"]}, 409, "cpf_in_use", "cpf"),  # another contract of the operator
        ({"plan": "Plano Ouro"}, 422, "plan_not_contracted", "plan"),
        ({"plan": None}, 400, "invalid_request", "plan"),
        ({"mother_name": None}, 400, "invalid_request", "mother_name"),
        ({"name": "Bruno"}, 400, "invalid_request", "name"),  # the full name
        ({"birth_date": _years_ago(10)}, 422, "age_below_minimum", "birth_date"),
        ({"birth_date": "31/02/1990"}, 400, "invalid_request", "birth_date"),
        ({"start_date": "15/01/2020"}, 422, "start_date_not_allowed", "start_date"),
        ({"kinship": "filho", "holder": None}, 400, "invalid_request", "holder"),  # dependent without holder
        ({"kinship": "conjuge", "holder": RENATA}, 422, "holder_not_found", "holder"),  # inactive holder
        ({"kinship": "conjuge", "holder": cpf(987654321)}, 422, "holder_not_found", "holder"),
        ({"kinship": "filho", "holder": PAULO}, 422, "age_above_maximum", "birth_date"),  # a 29-year-old "child"
        ({"kinship": "primo", "holder": PAULO}, 400, "invalid_request", "kinship"),
        ({"kinship": "conjuge", "holder": PAULO, "plan": "Odonto Plus"}, 422, "dependent_plan_differs", "plan"),
    ],
)
async def test_inclusion_refusals(client, session, fernanda, change, status, code, field):
    body = {key: value for key, value in {**BRUNO, **change}.items() if value is not None}
    answer_status, answer = await move(client, fernanda, "inclusions", body)
    assert (answer_status, answer["error"]["code"]) == (status, code), answer
    error = answer["error"]
    assert error.get("field") == field or field in error.get("fields", {})
    assert error["message"] and "<" not in error["message"]
    count = (await session.execute(select(CompanyMovement))).all()
    await session.commit()
    assert count == []  # nothing done


async def test_an_adult_dependent_needs_a_cpf(client, fernanda):
    body = {"name": "Ana Dias", "birth_date": "01/01/1990", "mother_name": "Rosa Dias"}
    status, answer = await move(client, fernanda, "inclusions", {**body, "kinship": "esposa", "holder": PAULO})
    assert status == 400 and "cpf" in answer["error"]["fields"]
    status, answer = await move(
        client, fernanda, "inclusions", {**body, "kinship": "esposa", "holder": PAULO, "cpf": cpf(111222333)}
    )
    assert status == 201 and answer["beneficiary"]["kinship"] == "spouse"


async def test_a_start_date_error_lists_the_allowed_dates(client, fernanda):
    status, answer = await move(client, fernanda, "inclusions", {**BRUNO, "start_date": "2020-01-01"})
    assert status == 422
    next_first = add_months(local_today(), 1)
    assert answer["error"]["allowed_dates"][-1] == iso(next_first)
    assert next_first.strftime("%d/%m/%Y") in answer["error"]["message"]


# --- exclusion ------------------------------------------------------------------------------------


async def test_excluding_paulo_excludes_livia_too(client, session, fernanda):
    status, body = await move(client, fernanda, "exclusions", {"beneficiary": PAULO_CPF, "reason": "demissão"})
    assert status == 201, body
    assert "Lívia Dias" in body["message"] and [d["card_number"] for d in body["dependents"]] == [LIVIA]
    assert body["effective_date"] == iso(local_today())
    paulo, livia = await person(session, PAULO), await person(session, LIVIA)
    assert (paulo.status, livia.status) == ("cancelled", "cancelled")
    assert paulo.cancelled_at == local_today()
    again = await move(client, fernanda, "exclusions", {"beneficiary": PAULO, "reason": "desligamento"})
    assert again[0] == 409 and again[1]["error"]["code"] == "beneficiary_inactive"


async def test_excluding_a_dependent_keeps_the_holder(client, session, fernanda):
    last = add_months(local_today(), 2) - timedelta(days=1)
    body = {"beneficiary": LIVIA, "reason": "perda da condição de dependente", "date": last.strftime("%d/%m/%Y")}
    status, answer = await move(client, fernanda, "exclusions", body)
    assert status == 201 and answer["dependents"] == []
    assert (await person(session, LIVIA)).cancelled_at == last
    assert (await person(session, PAULO)).status == "active"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"date": iso(local_today() - timedelta(days=1))}, 422, "exclusion_date_not_allowed"),
        ({"date": iso(add_months(local_today(), 2))}, 422, "exclusion_date_not_allowed"),
        ({"reason": "porque sim"}, 400, "invalid_request"),
        ({"reason": "perda da condição de dependente"}, 422, "reason_not_for_holder"),
        ({"beneficiary": "500100009901"}, 404, "beneficiary_not_found"),
        ({"beneficiary": "12345"}, 400, "invalid_request"),
    ],
)
async def test_exclusion_refusals(client, session, fernanda, change, status, code):
    answer = await move(client, fernanda, "exclusions", {"beneficiary": PAULO, "reason": "a pedido", **change})
    assert (answer[0], answer[1]["error"]["code"]) == (status, code), answer
    assert (await person(session, PAULO)).status == "active"


# --- change of data, plan change ------------------------------------------------------------------


async def test_changing_pauls_mothers_name(client, session, fernanda):
    status, body = await move(
        client, fernanda, "changes", {"beneficiary": PAULO, "mother_name": "Sônia Maria Dias Lima"}
    )
    assert status == 201 and "nome da mãe" in body["message"]
    assert (await person(session, PAULO)).mother_name == "Sônia Maria Dias Lima"
    same = await move(client, fernanda, "changes", {"beneficiary": PAULO, "name": "Paulo Henrique Dias"})
    assert same[0] == 409 and same[1]["error"]["code"] == "nothing_to_change"
    empty = await move(client, fernanda, "changes", {"beneficiary": PAULO})
    assert empty[0] == 400
    too_old = await move(client, fernanda, "changes", {"beneficiary": LIVIA, "birth_date": "01/01/1990"})
    assert too_old[0] == 422 and too_old[1]["error"]["code"] == "age_above_maximum"
    inactive = await move(client, fernanda, "changes", {"beneficiary": RENATA, "name": "Renata Costa Lima"})
    assert inactive[0] == 409 and inactive[1]["error"]["code"] == "beneficiary_inactive"


async def test_a_plan_change_takes_the_dependents_along(client, session, fernanda):
    status, body = await move(client, fernanda, "plan-changes", {"beneficiary": PAULO, "plan": "ODONTO PLUS"})
    assert status == 201, body
    assert body["effective_date"] == iso(add_months(local_today(), 1)) and "Lívia Dias" in body["message"]
    plus = (await session.execute(select(Plan).where(Plan.name == "Odonto Plus"))).scalar_one()
    assert {(await person(session, card)).plan_id for card in (PAULO, LIVIA)} == {plus.id}
    same = await move(client, fernanda, "plan-changes", {"beneficiary": PAULO, "plan": "Odonto Plus"})
    assert same[1]["error"]["code"] == "same_plan"
    dependent = await move(client, fernanda, "plan-changes", {"beneficiary": LIVIA, "plan": "Odonto Essencial"})
    assert dependent[0] == 422 and dependent[1]["error"]["code"] == "dependent_follows_holder"
    other = await move(client, fernanda, "plan-changes", {"beneficiary": PAULO, "plan": "Vida Sergipe Completo"})
    assert other[0] == 422 and other[1]["error"]["code"] == "plan_not_contracted"


# --- reactivation ---------------------------------------------------------------------------------


async def test_renata_is_reactivated_with_a_retroactive_start(client, session, fernanda):
    start = add_months(local_today(), -2)
    status, body = await move(client, fernanda, "reactivations", {"beneficiary": RENATA_CPF, "start_date": iso(start)})
    assert status == 201, body
    assert body["beneficiary"]["card_number"] == RENATA and body["retroactive"] is True
    renata = await person(session, RENATA)
    assert (renata.status, renata.cancelled_at) == ("active", None)
    again = await move(client, fernanda, "reactivations", {"beneficiary": RENATA})
    assert again[0] == 409 and again[1]["error"]["code"] == "beneficiary_active"


async def test_a_reactivation_has_a_deadline_and_starts_after_the_exit(client, session, fernanda):
    await session.execute(
        update(Beneficiary).where(Beneficiary.card_number == RENATA).values(cancelled_at=add_months(local_today(), -8))
    )
    await session.commit()
    late = await move(client, fernanda, "reactivations", {"beneficiary": RENATA})
    assert late[0] == 422 and late[1]["error"]["code"] == "reactivation_period_over"
    await session.execute(
        update(Beneficiary).where(Beneficiary.card_number == RENATA).values(cancelled_at=local_today())
    )
    await session.commit()
    early = await move(
        client, fernanda, "reactivations", {"beneficiary": RENATA, "start_date": iso(add_months(local_today(), 0))}
    )
    assert early[0] == 422 and early[1]["error"]["code"] == "reactivation_before_exit"


async def test_a_dependent_comes_back_only_with_an_active_holder(client, fernanda):
    await move(client, fernanda, "exclusions", {"beneficiary": PAULO, "reason": "desligamento"})
    livia = await move(client, fernanda, "reactivations", {"beneficiary": LIVIA})
    assert livia[0] == 409 and livia[1]["error"]["code"] == "holder_inactive"
    assert (await move(client, fernanda, "reactivations", {"beneficiary": PAULO}))[0] == 201
    assert (await move(client, fernanda, "reactivations", {"beneficiary": LIVIA}))[0] == 201


# --- transfer -------------------------------------------------------------------------------------


async def test_paulo_moves_to_the_group_company_with_his_family(client, session, fernanda):
    await add_group_user(session)
    group = await login_headers(client, GROUP_USER)
    before = await move(client, group, "changes", {"beneficiary": PAULO, "name": "Paulo H Dias"})
    assert before[0] == 404 and before[1]["error"]["code"] == "beneficiary_not_found"  # not theirs yet
    status, body = await move(client, fernanda, "transfers", {"beneficiary": PAULO, "target_company": "500200"})
    assert status == 201, body
    assert body["beneficiary"]["card_number"] == "500200000101" and body["beneficiary"]["company_code"] == "500200"
    assert [d["card_number"] for d in body["dependents"]] == ["500200000102"]
    assert "Horizonte Incorporações Ltda" in body["message"]
    assert body["effective_date"] == iso(add_months(local_today(), 1))
    gone = await move(client, fernanda, "changes", {"beneficiary": PAULO_CPF, "name": "Paulo H Dias"})
    assert gone[0] == 404  # no longer Horizonte's
    now = await move(client, group, "changes", {"beneficiary": PAULO_CPF, "name": "Paulo Henrique Dias Filho"})
    assert now[0] == 201


async def test_transfer_refusals(client, session, fernanda):
    await add_other_company(session)
    for target in ("600100", "500100", "999999"):  # another group, the same company, nobody
        answer = await move(client, fernanda, "transfers", {"beneficiary": PAULO, "target_company": target})
        assert answer[0] == 422 and answer[1]["error"]["code"] == "transfer_outside_group"
    dependent = await move(client, fernanda, "transfers", {"beneficiary": LIVIA, "target_company": "500200"})
    assert dependent[1]["error"]["code"] == "dependent_follows_holder"
    await move(client, fernanda, "plan-changes", {"beneficiary": PAULO, "plan": "Odonto Plus"})
    plus = await move(client, fernanda, "transfers", {"beneficiary": PAULO, "target_company": "500200"})
    assert plus[0] == 422 and plus[1]["error"]["code"] == "plan_not_contracted_by_target"
    assert plus[1]["error"]["plans"] == ["Odonto Essencial"]
    ok = {"beneficiary": PAULO, "target_company": "500200", "plan": "Odonto Essencial"}
    assert (await move(client, fernanda, "transfers", ok))[0] == 201


# --- who may move whom ----------------------------------------------------------------------------


async def test_another_company_never_reaches_horizontes_people(client, session, fernanda):
    await add_other_company(session)
    aurora = await login_headers(client, OTHER)
    for path, body in [
        ("exclusions", {"beneficiary": PAULO, "reason": "desligamento"}),
        ("changes", {"beneficiary": PAULO_CPF, "name": "Outro Nome"}),
        ("plan-changes", {"beneficiary": PAULO, "plan": "Odonto Plus"}),
        ("reactivations", {"beneficiary": RENATA}),
    ]:
        status, answer = await move(client, aurora, path, body)
        assert (status, answer["error"]["code"]) == (404, "beneficiary_not_found"), path
    # nor the other way round, nor a holder of another company for a dependent
    olga = await move(client, fernanda, "exclusions", {"beneficiary": "600100000101", "reason": "desligamento"})
    assert olga[0] == 404
    child = {"name": "Theo Aurora", "birth_date": "10/01/2020", "mother_name": "Olga Aurora", "kinship": "filho"}
    assert (await move(client, fernanda, "inclusions", {**child, "holder": "600100000101"}))[0] == 422
    done = await move(client, fernanda, "inclusions", BRUNO)
    lookup = await client.get(f"/api/company/protocols/{done[1]['protocol']}", headers=aurora)
    assert lookup.status == 404
    assert (await person(session, PAULO)).status == "active"


async def test_a_plain_company_user_may_move_beneficiaries(client, outbox):
    diego = await verified_headers(client, outbox, user_code=DIEGO_CODE, conversation="conversa-dp")
    status, body = await move(
        client, diego, "inclusions", {**BRUNO, "channel": "rest", "conversation_id": "conversa-dp"}
    )
    assert status == 201 and body["beneficiary"]["card_number"] == "500100000301"


async def test_no_credential_no_movement(client):
    status, body = await move(client, {}, "inclusions", BRUNO)
    assert status == 401 and body["error"]["code"] == "company_unauthorized"
