"""Plan services end to end through the REST channel: card, plan, waiting periods, fees and the
bank-slip copy, statements, the accredited network, card reissue, follow-ups, information.
One verified session serves several requests, as it would for a real user."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
import zlib
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from rest_chat import PROTOCOL_RE, Chat
from stack_support import assert_protocol, backend_db

from backend.clock import local_today

pytestmark = pytest.mark.integration

MARIA = ("100200300401", "945.807.302-24", "12/03/1985")
CARLOS = ("400500600701", "224.538.323-01", "19/09/1978")
LINHA_DIGITAVEL_RE = re.compile(r"\d{5}\.\d{5} \d{5}\.\d{6} \d{5}\.\d{6} \d \d{14}")
DOCUMENT_RE = re.compile(r"https?://\S+/documentos/[A-Za-z0-9_.-]+")


def identify(c: Chat, card: str, cpf: str, birth: str) -> str:
    c.say(card)
    c.say(cpf)
    return c.say(birth)


def fetch(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.headers.get_content_type(), resp.read()


def press(c: Chat, title_part: str) -> str:
    """Taps the first button whose title contains `title_part`."""
    for message in c.last:
        for button in message.get("buttons", []):
            if title_part in button["title"]:
                return c.say(button["payload"])
    raise AssertionError(f"no button with {title_part!r} in {c.buttons}")


def pdf_text(body: bytes) -> str:
    """The text strings of a PDF written by fpdf2 with its core fonts (latin-1 literals in
    Flate-compressed content streams), joined by spaces: enough to look for a name or a year."""
    strings = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S):
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            content = stream
        for literal in re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", content):
            strings.append(re.sub(rb"\\(.)", rb"\1", literal).decode("latin-1"))
    return " ".join(strings)


def fees_of(stack, card: str) -> list[dict]:
    """The holder's fees in the module's database (reference_month, status, paid_at)."""
    with backend_db(stack) as db:
        rows = db.execute(
            sa.text(
                "SELECT f.reference_month, f.status, f.paid_at FROM fees f JOIN beneficiaries b "
                "ON b.id = f.beneficiary_id WHERE b.card_number = :card"
            ),
            {"card": card},
        ).all()
    return [{"reference_month": _date(r[0]), "status": r[1], "paid_at": _date(r[2]) if r[2] else None} for r in rows]


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@pytest.fixture(scope="module")
def maria(stack) -> Chat:
    """Maria, verified once (her card shown): the following requests reuse her session."""
    c = Chat(stack, "maria-servicos")
    assert "carteirinha" in c.say("quero ver minha carteirinha digital").lower()
    assert "1002 0030 0401" in identify(c, *MARIA)
    return c


def test_virtual_card_text_and_image(maria):
    maria.say("quero ver minha carteirinha digital")  # verified: no identity asked again
    text = "\n".join(m.get("text", "") for m in maria.last)
    assert "1002 0030 0401" in text and "Maria Aparecida Santos" in text and "ANS" in text
    images = [m["image"] for m in maria.last if m.get("image")]
    assert images, maria.last
    content_type, body = fetch(images[0])
    assert content_type == "image/png" and body.startswith(b"\x89PNG")
    assert any("João" in title for title in maria.buttons)  # the holder may open a dependent's card
    answer = press(maria, "João")
    assert "João Pedro Santos" in answer


def test_fees_then_bank_slip_of_the_overdue_one(maria):
    answer = maria.say("tenho alguma mensalidade atrasada?")
    assert "vencida" in answer.lower(), answer  # no identity asked again: the session is alive
    answer = maria.say("quero a segunda via do boleto")
    assert "De qual mensalidade" in answer and len(maria.buttons) == 2
    answer = press(maria, "vencida")
    assert LINHA_DIGITAVEL_RE.search(answer), answer
    assert "multa de 2%" in answer and "juros de 1% ao mês" in answer
    assert "br.gov.bcb.pix" in answer.lower() and PROTOCOL_RE.search(answer)
    assert_protocol(maria.stack, PROTOCOL_RE.search(answer).group(0), "bank_slip_copy", MARIA[0], maria.sender)
    documents = [m["custom"] for m in maria.last if m.get("custom", {}).get("type") == "document"]
    assert documents and documents[0]["filename"].endswith(".pdf")
    content_type, body = fetch(documents[0]["url"])
    assert content_type == "application/pdf" and body.startswith(b"%PDF")


def test_income_tax_statement_asks_the_year(stack, maria):
    answer = maria.say("preciso do demonstrativo para o imposto de renda")
    assert "De qual ano" in answer and len(maria.buttons) == 3
    # a year with payments: that of her latest one (the seed's fees are the last 12 months, the two
    # latest unpaid, so in January and February the current year has none yet)
    year = max(fee["paid_at"] for fee in fees_of(stack, MARIA[0]) if fee["status"] == "paid").year
    answer = maria.say(f"de {year}")  # typed, not tapped
    assert DOCUMENT_RE.search(answer) and PROTOCOL_RE.search(answer), answer
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "statement", MARIA[0], maria.sender)
    content_type, body = fetch(DOCUMENT_RE.search(answer).group(0))
    assert content_type == "application/pdf" and body.startswith(b"%PDF")
    assert str(year) in pdf_text(body)


def test_plan_and_waiting_periods(maria):
    answer = maria.say("qual é o meu plano?")
    assert "apartamento" in answer.lower()
    answer = maria.say("ainda tenho carência?")
    assert "parto" in answer.lower() and "João" in answer


def test_card_reissue_for_a_dependent_with_confirmation(maria):
    answer = maria.say("preciso da segunda via da carteirinha")
    assert "para quem" in answer.lower() and any("Ana" in t for t in maria.buttons)
    answer = press(maria, "Ana")
    assert "motivo" in answer.lower()
    answer = maria.say("quebrou")
    assert "observação" in answer.lower()
    answer = maria.say("não")
    assert "Ana Clara Santos" in answer and "Danificação" in answer and maria.buttons == ["Sim", "Não"]
    answer = maria.say("sim")
    assert PROTOCOL_RE.search(answer), answer
    assert_protocol(maria.stack, PROTOCOL_RE.search(answer).group(0), "card_reissue", MARIA[0], maria.sender)
    answer = maria.say("a carteirinha que pedi já ficou pronta?")
    # who, status and dates of each request (the seed's one for João is in production)
    assert "Ana Clara Santos: solicitada (motivo Danificação" in answer, answer
    assert "João Pedro Santos: em produção (motivo Extravio" in answer and "previsão de entrega até" in answer


def test_accredited_network_without_identity(stack):
    c = Chat(stack, "rede")
    answer = c.say("tem cardiologista credenciado em Aracaju?")
    assert "Cardiologia" in answer and "Aracaju" in answer and "Tel." in answer, answer
    c2 = Chat(stack, "rede-2")
    assert "especialidade" in c2.say("quero procurar um médico da rede").lower()
    assert "cidade" in c2.say("pediatra").lower()
    answer = c2.say("aracaju")
    assert "Pediatria" in answer, answer


def test_a_question_and_another_request_in_the_middle_of_a_form(stack):
    c = Chat(stack, "troca")
    assert "especialidade" in c.say("quero procurar um médico da rede").lower()
    answer = c.say("qual o telefone da central?")
    assert "0800 888 9504" in answer and "especialidade" in answer.lower(), answer  # answered, then asked again
    answer = c.say("deixa pra la, quero a segunda via do boleto")
    assert "carteirinha" in answer.lower() and "especialidade" not in answer.lower(), answer
    c.say(MARIA[0])
    c.say(MARIA[1])
    answer = c.say(MARIA[2])
    assert "De qual mensalidade" in answer, answer  # the new request went on to the end


def test_information_and_contacts_without_identity(stack):
    c = Chat(stack, "info")
    assert "0800 888 9504" in c.say("qual o telefone da central?")
    assert "telemedicina" in c.say("como funciona a telemedicina?").lower()


def test_cancelled_plan_gets_an_explanation(stack):
    c = Chat(stack, "carlos")
    c.say("quero ver minha carteirinha")
    answer = identify(c, *CARLOS)
    assert "cancelad" in answer.lower() and "0800 888 9504" in answer, answer


def _inbound_pdf(stack, sender: str, name: str) -> dict:
    """A file as a channel hands what a user sends to the backend (channels/inbound_files.py: POST
    /api/inbound-files for the conversation) and the attachment it passes the bot (its id)."""
    request = urllib.request.Request(
        f"{stack.backend_url}/api/inbound-files?{urllib.parse.urlencode({'filename': name})}",
        data=b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
        method="POST",
        headers={
            "Authorization": f"Bearer {stack.environment()['BACKEND_SERVICE_TOKEN']}",
            "X-Channel": "rest",
            "X-Conversation-Id": sender,
            "Content-Type": "application/pdf",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        body = json.loads(resp.read())
    return {key: body[key] for key in ("content_type", "filename", "size")} | {"file_id": body["id"]}


def test_reimbursement_with_a_receipt_and_a_correction(stack, maria):
    answer = maria.say("quero pedir reembolso de uma consulta")
    assert "de quem" in answer.lower() and "Maria" in maria.buttons
    assert "nome do médico" in maria.say("eu")
    assert "CPF ou o CNPJ" in maria.say("Clínica Pele Sã")
    assert "não é válido" in maria.say("11.222.333/0001-82")  # wrong check digits; nothing else is lost
    answer = maria.say("11.222.333/0001-81")
    assert "atendimento" in answer and ("dia" in answer or "data" in answer), answer  # asks the date next
    assert "não pode ser no futuro" in maria.say(f"{local_today() + timedelta(days=30):%d/%m/%Y}")
    assert "O que foi feito" in maria.say("ontem")
    assert "Quanto" in maria.say("consulta com dermatologista")
    maria.say("R$ 250,00")
    answer = maria.say("errei o valor")
    assert "corrigir o valor" in answer and "Quanto" in answer
    answer = maria.say("260 reais")
    assert "recibo" in answer.lower()
    someone_elses = _inbound_pdf(stack, "outra-conversa", "recibo.pdf")  # an id of another conversation
    assert "Não encontrei esse arquivo" in maria.say("/enviar_documento", {"attachments": [someone_elses]})
    answer = maria.say("/enviar_documento", {"attachments": [_inbound_pdf(stack, maria.sender, "recibo.pdf")]})
    assert "recibo.pdf" in answer
    answer = maria.say("pronto")
    assert "R$ 260,00" in answer and "Clínica Pele Sã" in answer and maria.buttons == ["Sim", "Não"]
    answer = maria.say("sim")
    assert PROTOCOL_RE.search(answer) and "Resposta até" in answer, answer
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "reimbursement", MARIA[0], maria.sender)
    answer = maria.say("como está meu reembolso?")
    assert "Clínica Pele Sã" in answer and "Dermacare" in answer


def test_protocol_lookup_without_identity(stack, maria):
    number = PROTOCOL_RE.search(maria.say("status do reembolso"))  # one of her reimbursements
    assert_protocol(stack, number.group(0), "reimbursement", MARIA[0])
    c = Chat(stack, "protocolo")
    assert "20 números" in c.say("quero consultar um protocolo")
    answer = c.say(number.group(0))
    assert "reembolso" in answer.lower() and number.group(0) in answer


def test_card_reissue_after_robbery_asks_the_police_report_number(maria):
    maria.say("preciso de outra carteirinha")
    assert "motivo" in press(maria, "Maria").lower()
    assert "boletim de ocorrência" in maria.say("fui roubada e fiz o B.O.").lower()
    assert "número do boletim" in maria.say("1")  # too short to be a police report number
    assert "observação" in maria.say("BO 2026/123456").lower()
    answer = maria.say("não")
    assert "Roubo C/ B.O" in answer and "2026/123456" in answer
    protocol = PROTOCOL_RE.search(maria.say("sim"))
    assert protocol
    assert_protocol(maria.stack, protocol.group(0), "card_reissue", MARIA[0], maria.sender)


def test_debt_discharge_for_a_year_without_fees_says_so(maria):
    answer = maria.say("preciso da declaração de quitação de débitos de 2019")
    assert not DOCUMENT_RE.search(answer) and "2019" in answer, answer


def fully_paid_year(stack, card: str, amount: str) -> int:
    """The latest closed year in which every fee of the holder is paid (what the debt-discharge
    declaration needs). The seed gives Maria at least 24 months and the whole previous year, the two
    latest months unpaid: the previous year qualifies, except in January (its December is the overdue
    month), when the year before does. Should none, a fully paid year before her first one is added to
    the module's database."""
    fees, today = fees_of(stack, card), local_today()
    years = {fee["reference_month"].year for fee in fees}
    paid = [
        year
        for year in years
        if year < today.year and all(fee["status"] == "paid" for fee in fees if fee["reference_month"].year == year)
    ]
    if paid:
        return max(paid)
    year = min(*years, today.year) - 1
    with backend_db(stack) as db:
        holder = db.execute(
            sa.text("SELECT id FROM beneficiaries WHERE card_number = :card"), {"card": card}
        ).scalar_one()
        for month in range(1, 13):
            due = date(year, month, 10)
            db.execute(
                sa.text(
                    "INSERT INTO fees (beneficiary_id, document_number, reference_month, due_date, type, "
                    "amount, paid_at, status) VALUES (:holder, :number, :month, :due, 'Mensalidade', "
                    ":amount, :paid, 'paid')"
                ),
                {
                    "holder": holder,
                    "number": f"{card[-6:]}{year}{month:02d}",
                    "month": date(year, month, 1),
                    "due": due,
                    "amount": amount,
                    "paid": due - timedelta(days=2),
                },
            )
    return year


def test_debt_discharge_declaration_for_a_fully_paid_year(stack, maria):
    year = fully_paid_year(stack, MARIA[0], "1289.70")
    answer = maria.say(f"preciso da declaração de quitação de débitos de {year}")
    assert f"quitação de {year}" in answer and "paga" in answer, answer  # "...do ano estão pagas"
    link = DOCUMENT_RE.search(answer)
    assert link and PROTOCOL_RE.search(answer), answer
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "statement", MARIA[0], maria.sender)
    content_type, body = fetch(link.group(0))
    assert content_type == "application/pdf" and body.startswith(b"%PDF")
    text = pdf_text(body)
    assert "Maria Aparecida Santos" in text and "100200300401" in text and f"dezembro de {year}" in text, text


def test_unknown_specialty_offers_known_ones(stack):
    c = Chat(stack, "rede-desconhecida")
    c.say("quero procurar um médico credenciado")
    c.say("astrologo")
    answer = c.say("Aracaju")
    assert "Não encontrei a especialidade" in answer and "Cardiologia" in c.buttons, answer


def test_dependent_sees_own_card_and_is_told_fees_go_to_the_holder(stack):
    c = Chat(stack, "joao")
    c.say("minha carteirinha")
    answer = identify(c, "100200300402", "157.368.193-84", "30/07/2012")
    assert "João Pedro Santos" in answer and "1002 0030 0402" in answer and not c.buttons, answer
    answer = c.say("tenho mensalidade atrasada?")
    assert "titular" in answer.lower(), answer
