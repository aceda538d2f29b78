"""GET /api/plan and GET /api/waiting-periods (verified by headers): personas, dependents, the
cancelled plan, expired verification."""

from datetime import date, timedelta

from backend_api import CARLOS, JOAO, JOSE, MARIA, get_with_verification, verify

from backend.clock import local_today


async def _get(client, path: str, persona: dict, **params) -> tuple[int, dict]:
    return await get_with_verification(client, path, persona, params=params)


async def test_maria_plan(client):
    status, body = await _get(client, "/api/plan", MARIA)
    assert status == 200, body
    assert body["beneficiary"] == {
        "name": "Maria Aparecida Santos",
        "card_number": "100200300401",
        "role": "holder",
        "role_label": "titular",
        "relationship": "holder",
        "relationship_label": "titular",
    }
    assert "(titular)" in body["message"]
    plan = body["plan"]
    assert plan["name"] == "Vida Sergipe Completo" and plan["ans_product_registration"] == "482913191"
    assert plan["segments"] == ["ambulatorial", "hospitalar", "obstetrícia"]
    assert plan["segments_text"] == "ambulatorial + hospitalar com obstetrícia"
    assert (plan["accommodation"], plan["coparticipation"]) == ("apartamento", False)
    assert body["operator"]["ans_registration"] == "419010"
    assert (body["status"], body["cancelled_on"]) == ("active", None)
    assert "apartamento" in body["message"] and "sem coparticipação" in body["message"]


async def test_jose_plan_has_coparticipation_and_no_obstetrics(client):
    status, body = await _get(client, "/api/plan", JOSE)
    assert status == 200
    assert body["plan"]["segments"] == ["ambulatorial", "hospitalar"]
    assert body["plan"]["coparticipation"] is True and body["plan"]["accommodation"] == "enfermaria"
    assert "com coparticipação" in body["message"]


async def test_holder_sees_dependent_plan_but_dependent_not_holder(client):
    status, body = await _get(client, "/api/plan", MARIA, beneficiary="100200300402")
    assert status == 200 and body["beneficiary"]["role"] == "dependent"
    assert (body["beneficiary"]["relationship"], body["beneficiary"]["relationship_label"]) == ("son", "filho")
    assert body["beneficiary"]["name"] == "João Pedro Santos"

    status, body = await _get(client, "/api/plan", JOAO, beneficiary="100200300401")
    assert status == 403 and body["error"]["code"] == "not_in_family"
    status, body = await _get(client, "/api/plan", JOSE, beneficiary="100200300402")
    assert status == 403

    status, body = await _get(client, "/api/plan", MARIA, beneficiary="12345")
    assert status == 400 and "12 dígitos" in body["error"]["message"]
    assert list(body["error"]["fields"]) == ["beneficiary"]


async def test_cancelled_plan_is_explained_not_an_error(client):
    status, body = await _get(client, "/api/plan", CARLOS)
    assert status == 200
    assert body["status"] == "cancelled"
    cancelled_on = date.fromisoformat(body["cancelled_on"])
    assert cancelled_on == local_today() - timedelta(days=75)
    assert f"{cancelled_on:%d/%m/%Y}" in body["message"] and "cancelado" in body["message"]
    assert "0800 888 9504" in body["message"]


async def test_needs_verification(client):
    response = await client.get("/api/plan")
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "verification_invalid"
    token = await verify(client, MARIA)
    response = await client.get(
        "/api/waiting-periods", headers={"X-Verification": token, "X-Conversation-Id": "outra-conversa"}
    )
    assert response.status == 401


async def test_maria_waiting_periods_with_her_children(client):
    status, body = await _get(client, "/api/waiting-periods", MARIA)
    assert status == 200, body
    assert body["plan_status"] == "active"
    maria, joao, ana = body["members"]
    assert [m["name"] for m in body["members"]] == ["Maria Aparecida Santos", "João Pedro Santos", "Ana Clara Santos"]
    groups = {g["group"]: g for g in maria["groups"]}
    assert len(groups) == 5 and maria["all_fulfilled"] is False
    childbirth = groups["Parto a termo"]
    until = local_today() + timedelta(days=120)
    assert childbirth == {
        "group": "Parto a termo",
        "fulfilled": False,
        "until": until.isoformat(),
        "days_left": 120,
        "fulfilled_on": None,
    }
    assert all(g["fulfilled"] for name, g in groups.items() if name != "Parto a termo")
    assert groups["Urgência e emergência"]["fulfilled_on"] == (local_today() - timedelta(days=1095)).isoformat()
    assert f"{until:%d/%m/%Y}" in maria["message"] and "120 dias" in maria["message"]
    for child in (joao, ana):
        assert child["role"] == "dependent" and child["all_fulfilled"] is True
        assert {g["group"] for g in child["groups"]} == set(groups)
        assert "não tem carência" in child["message"]
    assert "Parto a termo" in body["message"] and "Ana Clara Santos não tem carência" in body["message"]


async def test_dependent_sees_only_themself(client):
    status, body = await _get(client, "/api/waiting-periods", JOAO)
    assert status == 200
    assert [m["name"] for m in body["members"]] == ["João Pedro Santos"]


async def test_plan_without_obstetrics_has_no_childbirth_group(client):
    status, body = await _get(client, "/api/waiting-periods", JOSE)
    assert status == 200
    [jose] = body["members"]
    assert "Parto a termo" not in {g["group"] for g in jose["groups"]} and jose["all_fulfilled"]


async def test_cancelled_plan_waiting_periods(client):
    status, body = await _get(client, "/api/waiting-periods", CARLOS)
    assert status == 200
    assert body["plan_status"] == "cancelled" and "cancelado" in body["message"]
