"""The employer's side through the REST channel, with the real stack (backend, actions, Rasa with the
trained model) and the demo company of the contract (section 8): the company user's identity by a code
read from the stack's Maildir, the first access, invoices and a slip copy, the inclusion of Bruno
Almeida, an emergency in the middle of the identity, and the two sessions kept apart; then the change of a
beneficiary's data, a plan change, the reactivation of Renata, a transfer to the group's other company, a portal
user added by the admin and refused to a plain user, "fatura" alone in a company conversation, and a switch of
request in the middle of the identity that keeps the user code. The backend sends at most 5 codes an hour to a
user: the module's first tests ask 4; each later test that asks one starts from the seeded database
(pristine_stack), which also starts the count again — and puts Paulo back in his company and plan."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request

import pytest
from rest_chat import PROTOCOL_RE, Chat, mails_to

pytestmark = pytest.mark.integration

FERNANDA = {"user": "RH500101", "cnpj": "33.445.566/0001-86", "email": "rh@horizonte.exemplo.com.br"}
DIEGO = {"user": "RH500102", "email": "dp@horizonte.exemplo.com.br"}
CODE_RE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)
CENTRAL_24H = "0800 888 9504"


def new_code(stack, seen: list[str]) -> str:
    """The code of the company-code e-mail that arrived after `seen` (the bodies read before)."""
    fresh = [body for body in mails_to(stack, FERNANDA["email"]) if body not in seen]
    assert fresh, "no company code e-mail"
    [code] = CODE_RE.findall(fresh[-1])
    return code


def payload_of(chat: Chat, title_start: str) -> str:
    for message in chat.last:
        for button in message.get("buttons") or []:
            if button["title"].startswith(title_start):
                return button["payload"]
    raise AssertionError(f"no button {title_start!r} in {chat.buttons}")


def verify(stack, chat: Chat, first: str = "sou do RH") -> str:
    """The company identity of RH500101; what the bot said after the right code."""
    assert "código de usuário" in chat.say(first)
    assert "CNPJ" in chat.say(FERNANDA["user"])
    seen = mails_to(stack, FERNANDA["email"])
    assert "código de 6 números" in chat.say(FERNANDA["cnpj"])
    return chat.say(new_code(stack, seen))


def test_identity_with_a_wrong_code_then_the_right_one(stack):
    c = Chat(stack, "rh-code")
    assert "código de usuário" in c.say("sou do rh")
    seen = mails_to(stack, FERNANDA["email"])  # other tests' codes, in any order (pytest-randomly)
    answer = c.say(f"{FERNANDA['user']} {FERNANDA['cnpj']}")
    assert "enviei um código de 6 números" in answer and "senha" not in answer.lower()
    code = new_code(stack, seen)
    wrong = "000000" if code != "000000" else "111111"
    answer = c.say(wrong)
    assert "não confere" in answer and "tentativa" in answer, answer
    answer = c.say(code)
    assert "Acesso confirmado, Fernanda" in answer and "Construtora Horizonte Ltda" in answer, answer
    assert "Faturas" in c.buttons


def test_first_access_of_diego_sends_the_link(stack):
    c = Chat(stack, "rh-first")
    assert "primeiro acesso" in c.say("primeiro acesso ao portal da empresa").lower()
    assert "CNPJ" in c.say(DIEGO["user"])
    assert "e-mail" in c.say(FERNANDA["cnpj"])
    seen = mails_to(stack, DIEGO["email"])  # another test's code to Diego, in any order (pytest-randomly)
    answer = c.say(DIEGO["email"])
    assert "link" in answer.lower(), answer
    [body] = [body for body in mails_to(stack, DIEGO["email"]) if body not in seen]
    assert "crie a sua senha" in body and "http" in body


def test_invoices_and_a_slip_copy_of_the_overdue_one(stack):
    c = Chat(stack, "rh-invoices")
    verify(stack, c, "quero ver as faturas da empresa")
    answer = c.last and "\n".join(m.get("text", "") for m in c.last)
    assert "Faturas de" in answer and "vencida" in answer.lower(), answer
    answer = c.say(payload_of(c, "2ª via"))
    if "De qual fatura" in answer:
        answer = c.say(payload_of(c, ""))
    assert "Linha digitável" in answer and "PIX copia e cola" in answer and "/documentos/" in answer, answer
    assert PROTOCOL_RE.search(answer)
    # a second company request needs no new code
    assert "Construtora Horizonte Ltda" in c.say("dados da empresa")
    # the company session does not serve a beneficiary's request: the beneficiary's identity is asked
    answer = c.say("quero minha carteirinha digital")
    assert "carteirinha" in answer and "12" in answer, answer


def test_inclusion_of_bruno_almeida(stack):
    c = Chat(stack, "rh-inclusion")
    answer = verify(stack, c, "preciso incluir um funcionario novo no plano")
    assert "nome completo" in answer, answer
    assert "CPF" in c.say("Bruno Almeida")
    assert "nascimento" in c.say("650.283.194-05")
    assert "mãe" in c.say("09/09/1995")
    assert "plano" in c.say("Sandra Almeida")
    assert "titular" in c.say(payload_of(c, "Odonto Essencial")).lower()
    answer = c.say(payload_of(c, "Titular"))
    assert "retroativ" in answer, answer
    start = c.buttons[0]
    assert "retroativa" not in start  # the next first of the month comes first
    answer = c.say(payload_of(c, start))
    assert "Confere a inclusão?" in answer and "Bruno Almeida" in answer, answer
    answer = c.say("sim")
    assert PROTOCOL_RE.search(answer), answer
    assert re.search(r"\d{4} ?\d{4} ?\d{4}", answer), answer  # the new card number


def _cpf(base: str) -> str:
    """A valid CPF from 9 digits."""
    digits = [int(d) for d in base]
    for size in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(size + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


def _inbound_file(stack, sender: str, name: str, content: bytes, content_type: str) -> dict:
    """What the channel does with a file the user sent: POST /api/inbound-files for the conversation,
    then the attachment (its id) in the message's metadata."""
    request = urllib.request.Request(
        f"{stack.backend_url}/api/inbound-files?{urllib.parse.urlencode({'filename': name})}",
        data=content,
        method="POST",
        headers={
            "Authorization": f"Bearer {stack.environment()['BACKEND_SERVICE_TOKEN']}",
            "X-Channel": "rest",
            "X-Conversation-Id": sender,
            "Content-Type": content_type,
        },
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        body = json.loads(resp.read())
    return {key: body[key] for key in ("content_type", "filename", "size")} | {"file_id": body["id"]}


def test_the_template_then_the_filled_file_through_the_chat(stack):
    c = Chat(stack, "rh-batch")
    verify(stack, c, "modelo da planilha de movimentacao")
    answer = c.say(payload_of(c, "Modelo da planilha"))
    link = re.search(r"CSV: (\S+)", answer)
    assert link, answer
    with urllib.request.urlopen(link.group(1), timeout=30) as resp:
        template = resp.read().decode("utf-8-sig")
    header = template.splitlines()[0]
    columns = header.split(";")
    good = {
        "tipo": "inclusao",
        "cpf": _cpf("123987456"),
        "nome": "Carla Nunes Prado",
        "data_nascimento": "05/05/1990",
        "nome_mae": "Vera Nunes Prado",
        "plano": "Odonto Essencial",
        "parentesco": "titular",
    }
    wrong_digit = good["cpf"][:-1] + str((int(good["cpf"][-1]) + 1) % 10)
    bad = {**good, "cpf": wrong_digit, "nome": "Erica Prado"}
    lines = [header] + [";".join(line.get(column, "") for column in columns) for line in (good, bad)]
    content = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    answer = c.say("quero enviar a planilha preenchida")
    assert "CSV ou XLSX" in answer, answer
    attachment = _inbound_file(stack, c.sender, "movimentacao.csv", content, "text/csv")
    answer = c.say("/enviar_documento", {"attachments": [attachment]})
    assert "Arquivo processado" in answer and PROTOCOL_RE.search(answer), answer
    assert "linha 3" in answer, answer  # the refused line, said by number


def test_an_emergency_in_the_middle_of_the_company_identity(stack):
    c = Chat(stack, "rh-emergency")
    assert "código de usuário" in c.say("area da empresa")
    assert "CNPJ" in c.say(FERNANDA["user"])
    answer = c.say("um funcionario desmaiou aqui e nao acorda")
    assert "192" in answer and CENTRAL_24H in answer, answer
    assert "CNPJ" in answer  # and the identity goes on (no code asked here: 5 an hour per user)


def test_human_and_cancel_in_the_company_identity(stack):
    c = Chat(stack, "rh-cancel")
    c.say("sou da empresa")
    assert "cancel" in c.say("cancelar").lower()
    c.say("sou da empresa")
    answer = c.say("quero falar com um atendente")
    assert PROTOCOL_RE.search(answer) or "ligue" in answer, answer  # no personal data asked first
    assert "código de usuário" not in answer


def verify_as(stack, chat: Chat, first: str, user: str, email: str) -> str:
    """The company identity of `user` (RH500101 Fernanda or RH500102 Diego); what the bot said after the code."""
    assert "código de usuário" in chat.say(first)
    assert "CNPJ" in chat.say(user)
    seen = mails_to(stack, email)
    assert "código de 6 números" in chat.say(FERNANDA["cnpj"])
    fresh = [body for body in mails_to(stack, email) if body not in seen]
    assert fresh, f"no company code e-mail to {email}"
    [code] = CODE_RE.findall(fresh[-1])
    return chat.say(code)


def test_change_of_a_dependents_mothers_name(pristine_stack):
    c = Chat(pristine_stack, "rh-change")
    answer = verify_as(pristine_stack, c, "alteracao cadastral de beneficiario", **_fernanda())
    assert "CPF ou o número da carteirinha" in answer, answer
    assert "O que muda no cadastro?" in c.say("500100000102")  # Lívia, Paulo's daughter
    assert "nome completo da mãe" in c.say(payload_of(c, "Nome da mãe"))
    answer = c.say("Carla Souza Dias Lima")
    assert "Confere a alteração?" in answer and "Carla Souza Dias Lima" in answer, answer
    answer = c.say("sim")
    assert "alterados: nome da mãe" in answer and PROTOCOL_RE.search(answer), answer


def test_plan_change_of_paulo(pristine_stack):
    c = Chat(pristine_stack, "rh-plan")
    answer = verify_as(pristine_stack, c, "trocar o plano de um funcionario", **_fernanda())
    assert "titular" in answer, answer
    c.say("318.640.275-17")
    assert c.buttons[:2] == ["Odonto Essencial", "Odonto Plus"], c.buttons  # the contracted plans
    answer = c.say(payload_of(c, "Odonto Plus"))
    assert "A partir de quando?" in answer and "cobrança retroativa" in answer, answer
    assert len(c.buttons) == 4 and sum("(retroativa)" in b for b in c.buttons) == 3, c.buttons
    answer = c.say(c.last[-1]["buttons"][0]["payload"])  # the next first of the month
    assert "Confere a troca de plano?" in answer and "Novo plano: Odonto Plus" in answer, answer
    assert "retroativa" not in answer, answer
    answer = c.say("sim")
    assert "alterado para Odonto Plus" in answer and PROTOCOL_RE.search(answer), answer
    assert "Lívia" in answer  # the dependent follows the holder


def test_reactivation_of_renata_then_the_backends_refusal(pristine_stack):
    c = Chat(pristine_stack, "rh-reactivation")
    answer = verify_as(pristine_stack, c, "reativar um funcionario que foi excluido", **_fernanda())
    assert "quem volta ao plano" in answer, answer
    assert "A partir de quando?" in c.say("472.915.806-76")
    retroactive = [b for b in c.buttons if "(retroativa)" in b]
    answer = c.say(retroactive[0].split()[0])  # the newest retroactive date, typed
    assert "Confere a reativação?" in answer and "cobrada nas faturas" in answer, answer
    answer = c.say("sim")
    assert "Reativação feita: Renata Costa" in answer and PROTOCOL_RE.search(answer), answer
    # again: now she is active, and the backend's refusal is said as it comes
    assert "quem volta ao plano" in c.say("reativar beneficiario")
    c.say("500100000201")
    c.say(c.last[-1]["buttons"][0]["payload"])
    answer = c.say("sim")
    assert "já está ativo" in answer and not PROTOCOL_RE.search(answer), answer


def test_transfer_of_paulo_to_the_groups_other_company(pristine_stack):
    c = Chat(pristine_stack, "rh-transfer")
    answer = verify_as(pristine_stack, c, "transferir funcionario para outra empresa do grupo", **_fernanda())
    assert "titular" in answer, answer
    answer = c.say("31864027517")
    assert "Para qual empresa do grupo?" in answer and c.buttons[0] == "Horizonte Incorporações Ltda (500200)", answer
    answer = c.say(payload_of(c, "Horizonte Incorporações"))
    assert "Confere a transferência?" in answer, answer
    answer = c.say("sim")
    assert "Transferência feita" in answer and "Horizonte Incorporações Ltda" in answer, answer
    assert PROTOCOL_RE.search(answer) and "5002" in answer  # a new card of the destination company


def test_the_admin_adds_a_portal_user_and_fatura_alone_is_the_companys(pristine_stack):
    c = Chat(pristine_stack, "rh-new-user")
    answer = verify_as(pristine_stack, c, "cadastrar usuario no portal da empresa", **_fernanda())
    assert "nome completo" in answer, answer
    assert "e-mail" in c.say("Carla Mendes Souza")
    c.say("carla.mendes@horizonte.exemplo.com.br")
    assert c.buttons[:2] == ["Administrador", "Usuário comum"], c.buttons
    answer = c.say(payload_of(c, "Usuário comum"))
    assert "Confere o novo usuário do portal?" in answer, answer
    answer = c.say("sim")
    assert "RH500103" in answer and "link" in answer, answer
    [body] = mails_to(pristine_stack, "carla.mendes@horizonte.exemplo.com.br")
    assert "http" in body
    # the same company conversation: "fatura" alone is the company's invoices, no beneficiary identity asked
    answer = c.say("faturas")
    assert "Faturas de" in answer and "carteirinha" not in answer, answer


def test_a_plain_user_is_refused_politely(stack):
    c = Chat(stack, "rh-plain-user")
    answer = verify_as(stack, c, "cadastrar usuario no portal da empresa", DIEGO["user"], DIEGO["email"])
    assert "Acesso confirmado, Diego" in answer, answer
    assert "Só o administrador do portal da empresa pode fazer isso" in answer, answer
    assert "nome completo" not in answer  # nothing asked first
    assert "Falar com atendente" in c.buttons


def test_a_switch_in_the_middle_of_the_identity_keeps_the_user_code(stack):
    c = Chat(stack, "rh-switch")
    assert "código de usuário" in c.say("sou do RH")
    assert "CNPJ" in c.say(FERNANDA["user"])
    answer = c.say("quero incluir um funcionario novo no plano")
    assert "CNPJ" in answer and "código de usuário" not in answer, answer  # no code asked here: 5 an hour


def _fernanda() -> dict[str, str]:
    return {"user": FERNANDA["user"], "email": FERNANDA["email"]}
