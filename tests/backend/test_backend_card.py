"""GET /api/card (cartao_virtual): the card's data for the holder and her dependents, the refusals,
and the card image behind the signed link (a PNG whose QR code is the card number)."""

import io
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from backend_api import CARLOS, JOAO, JOSE, MARIA, get_with_verification
from PIL import Image

from backend.card_image import qr_box, qr_code
from backend.clock import local_today
from backend.signed_links import sign
from backend.signed_links import verify as verify_link

pytestmark = pytest.mark.asyncio


async def get_card(client, persona, beneficiary=None):
    return await get_with_verification(
        client, "/api/card", persona, params={"beneficiary": beneficiary} if beneficiary else None
    )


async def test_maria_gets_her_card(client):
    status, body = await get_card(client, MARIA)
    assert status == 200, body
    card = body["card"]
    assert card["name"] == "Maria Aparecida Santos"
    assert card["card_number"] == "100200300401" and card["card_number_formatted"] == "1002 0030 0401"
    assert card["plan"] == "Vida Sergipe Completo" and card["product_ans_registration"] == "482913191"
    assert card["accommodation"] == "Apartamento"
    assert card["segments"] == ["Ambulatorial", "Hospitalar com obstetrícia"]
    assert card["operator_ans_registration"] == "419010" and card["holder"] is True
    assert card["valid_until"] == f"{local_today().year + 1}-12-31"
    assert "1002 0030 0401" in body["text"] and "Apartamento" in body["text"]
    assert [(m["name"], m["card_number"], m["selected"]) for m in body["members"]] == [
        ("Maria Aparecida Santos", "100200300401", True),
        ("João Pedro Santos", "100200300402", False),
        ("Ana Clara Santos", "100200300403", False),
    ]
    assert body["expires_in_minutes"] == 15


async def test_holder_gets_her_sons_card(client):
    status, body = await get_card(client, MARIA, beneficiary="1002 0030 0402")
    assert status == 200, body
    assert body["card"]["name"] == "João Pedro Santos" and body["card"]["holder"] is False
    assert body["card"]["relationship"] == "Dependente (filho)"
    assert [m["selected"] for m in body["members"]] == [False, True, False]
    assert urlsplit(body["image_url"]).path.startswith("/documentos/")


async def test_dependent_cannot_see_the_holders_card(client):
    status, body = await get_card(client, JOAO, beneficiary="100200300401")
    assert status == 403 and body["error"]["code"] == "not_in_family"
    status, body = await get_card(client, JOAO)
    assert status == 200 and body["card"]["name"] == "João Pedro Santos"
    assert [m["card_number"] for m in body["members"]] == ["100200300402"]


async def test_another_family_is_refused(client):
    status, body = await get_card(client, JOSE, beneficiary="100200300402")
    assert status == 403 and body["error"]["code"] == "not_in_family"


async def test_cancelled_plan_is_explained(client):
    status, body = await get_card(client, CARLOS)
    assert status == 409 and body["error"]["code"] == "plan_cancelled"
    assert "0800 888 9504" in body["error"]["message"] and "cancelado" in body["error"]["message"]


async def test_unverified_and_bad_card_number(client):
    response = await client.get("/api/card")
    assert response.status == 401
    status, body = await get_card(client, MARIA, beneficiary="12ab")
    assert status == 400 and "beneficiary" in body["error"]["fields"]


async def test_card_image_is_a_png_whose_qr_is_the_card_number(client):
    status, body = await get_card(client, MARIA, beneficiary="100200300402")
    assert status == 200
    response = await client.get(urlsplit(body["image_url"]).path)
    assert response.status == 200 and response.content_type == "image/png"
    image = Image.open(io.BytesIO(await response.read())).convert("L")
    assert image.size == (1012, 638)

    x, y, module, size = qr_box("100200300402")
    expected = qr_code("100200300402").matrix
    sampled = [
        [image.getpixel((x + col * module + module // 2, y + row * module + module // 2)) < 128 for col in range(size)]
        for row in range(size)
    ]
    assert sampled == [[bool(bit) for bit in row] for row in expected]
    # and not just any QR code: another card number gives another matrix
    assert qr_code("100200300401").matrix != expected


async def test_card_link_expires_and_cannot_be_altered(client, settings):
    status, body = await get_card(client, MARIA)
    token = urlsplit(body["image_url"]).path.rsplit("/", 1)[1]
    assert verify_link(settings.link_signing_secret, token).params == {"card": "100200300401"}

    old = sign(
        settings.link_signing_secret,
        "card",
        {"card": "100200300401"},
        now=datetime.now(timezone.utc) - timedelta(minutes=16),
    )
    assert (await client.get(f"/documentos/{old}")).status == 410
    payload, mac = token.split(".")
    forged = sign(b"another key", "card", {"card": "100200300402"}).split(".")[0] + "." + mac
    assert (await client.get(f"/documentos/{forged}")).status == 404
