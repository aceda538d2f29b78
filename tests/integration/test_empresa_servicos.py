"""More of the employer's side through the REST channel, with the real stack (backend, actions, Rasa with the
trained model) and the demo company of the contract (section 8): the flows test_empresa.py does not cover end
to end. The exclusion of Paulo (a mistyped CPF explained first; his daughter leaves with him; the protocol in
the company's list), and two exclusions the backend refuses (someone of another contract, Renata already out);
a change of the company's phone, whose protocol is then looked up by number, while a number of nobody and a
beneficiary's protocol are not shown; the reports of active beneficiaries (CSV and PDF) and of last month's
usage (PDF) opened by their links, and a tampered link refused; the company's data and contracted plans; the
forgotten password (a link by e-mail, the same answer for a wrong CNPJ, the new password set on the page, never
in the chat) and the forgotten user code (by e-mail only); the admin deactivating Diego, which ends his chat
session and his report link, and Diego refused when he tries to deactivate anyone; the admin changing Diego's
e-mail, after which his next one-time code goes to the new address.

The helpers come from test_empresa.py (the company identity by the code read from the Maildir) and
test_servicos.py (fetching a document, the text of a PDF). The backend sends at most 5 codes an hour to a
company user, and the flows change the company's data: every test starts from the seeded database
(pristine_stack), which also starts the counts again and puts Paulo, Renata and Diego back as seeded."""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
import sqlalchemy as sa
from rest_chat import LINK_RE, PROTOCOL_RE, Chat, mails_to, submit_page_form
from stack_support import backend_db, http_json, service_headers
from test_empresa import DIEGO, FERNANDA, payload_of, verify_as
from test_servicos import DOCUMENT_RE, fetch, pdf_text

from common.clock import local_today
from common.labels import date_text, month_name

pytestmark = pytest.mark.integration

PAULO_CPF = "318.640.275-17"
PAULO_CPF_TYPO = "318.640.275-71"  # the last two digits swapped: the check digits do not match
MARIA_CPF = "945.807.302-24"  # a beneficiary of the operator, not of the company
RENATA_CARD = "500100000201"  # inactive since 3 months ago
GROUP_CNPJ = "33.445.566/0002-67"  # Horizonte Incorporações: the group's other company, where RH500101 is nobody


def fernanda(stack, chat: Chat, first: str) -> str:
    return verify_as(stack, chat, first, FERNANDA["user"], FERNANDA["email"])


def diego(stack, chat: Chat, first: str) -> str:
    return verify_as(stack, chat, first, DIEGO["user"], DIEGO["email"])


def link_in(answer: str) -> str:
    found = DOCUMENT_RE.search(answer)
    assert found, answer
    return found.group(0)


def refused_status(url: str) -> tuple[int, str]:
    """The HTTP status and page of a link that must not open."""
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=30)
    return refused.value.code, refused.value.read().decode("utf-8", "replace")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def with_other_company(url: str) -> str:
    """The same signed link with the company id in its payload changed and the signature kept: what someone
    editing a link to read another company's report would send."""
    base, token = url.split("/documentos/")
    payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["p"]["company"] += 1
    forged = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{base}/documentos/{forged}.{signature}"


def line_of(text: str, start: str) -> str:
    """The line of `text` that mentions `start`."""
    found = [line for line in text.splitlines() if start in line]
    assert found, f"no line with {start!r} in {text!r}"
    return found[0]


def user_status(stack, user_code: str) -> str:
    with backend_db(stack) as db:
        return db.execute(
            sa.text("SELECT status FROM company_users WHERE user_code = :code"), {"code": user_code}
        ).scalar_one()


# --- exclusion -------------------------------------------------------------------------------------


def test_exclusion_of_paulo_after_a_mistyped_cpf_and_the_protocol_in_the_companys_list(pristine_stack):
    c = Chat(pristine_stack, "rh-exclusion")
    answer = fernanda(pristine_stack, c, "preciso tirar do plano um funcionario que foi desligado")
    assert "Acesso confirmado, Fernanda" in answer and "CPF ou o número da carteirinha" in answer, answer
    answer = c.say(PAULO_CPF_TYPO)
    assert "Esse CPF não é válido: os dígitos verificadores não batem" in answer, answer
    assert "motivo" not in answer.lower()  # asked again, not taken
    answer = c.say(PAULO_CPF)
    assert "Qual é o motivo da exclusão?" in answer and "desligamento ou demissão" in c.buttons, (answer, c.buttons)
    answer = c.say(payload_of(c, "desligamento"))
    assert "A partir de que dia?" in answer, answer
    today = date_text(local_today())
    answer = c.say("hoje")
    assert "Confere a exclusão?" in answer and "Motivo: desligamento ou demissão" in answer, answer
    assert f"Data de saída: {today}" in answer, answer
    assert "***.640.275-**" in answer and PAULO_CPF not in answer and "31864027517" not in answer, answer
    answer = c.say("sim")
    assert f"Exclusão feita: Paulo Henrique Dias sai do plano em {today}" in answer, answer
    assert "Os dependentes também foram excluídos: Lívia Dias" in answer, answer  # his daughter leaves with him
    protocol = PROTOCOL_RE.search(answer)
    assert protocol, answer
    # the same conversation, no new code: the protocol is in the company's list, done at once
    answer = c.say("protocolos da empresa")
    assert "Últimos protocolos da empresa" in answer and "código de usuário" not in answer, answer
    assert f"{protocol.group(0)}: exclusão de beneficiário, concluído (aberto em {today})" in answer, answer


def test_exclusions_the_backend_refuses_another_contracts_beneficiary_and_one_already_out(pristine_stack):
    c = Chat(pristine_stack, "rh-exclusion-refused")
    answer = fernanda(pristine_stack, c, "excluir funcionario do plano")
    assert "CPF ou o número da carteirinha" in answer, answer
    # Maria is a beneficiary of the operator, but not of this company: nobody to exclude here
    c.say(MARIA_CPF)
    c.say(payload_of(c, "desligamento"))
    answer = c.say("hoje")
    assert "Confere a exclusão?" in answer and "***.807.302-**" in answer, answer
    answer = c.say("sim")
    assert "Não encontrei beneficiário da empresa com esse CPF ou carteirinha" in answer, answer
    assert not PROTOCOL_RE.search(answer) and "Maria" not in answer, answer
    # Renata left 3 months ago: the backend says why and what to do instead
    answer = c.say("excluir outro funcionario")
    assert "CPF ou o número da carteirinha" in answer and "código de usuário" not in answer, answer
    c.say(RENATA_CARD)
    c.say(payload_of(c, "a pedido"))
    answer = c.say("hoje")
    assert f"Carteirinha: {RENATA_CARD}" in answer and "Motivo: a pedido do beneficiário" in answer, answer
    answer = c.say("sim")
    assert "Esse beneficiário está inativo" in answer and "reativação" in answer, answer
    assert not PROTOCOL_RE.search(answer), answer


# --- contact change and protocol lookup ------------------------------------------------------------


def test_change_of_the_company_phone_then_its_protocol_looked_up(pristine_stack):
    c = Chat(pristine_stack, "rh-contact")
    answer = fernanda(pristine_stack, c, "preciso trocar o telefone da empresa")
    assert "Qual é o novo telefone da empresa, com DDD?" in answer, answer  # "telefone" said at the start
    answer = c.say("79 3214-5099")
    assert "Pedido de alteração de telefone da empresa registrado com o protocolo" in answer, answer
    assert "2 dias úteis" in answer, answer
    found = PROTOCOL_RE.search(answer)
    assert found, answer
    number = found.group(0)
    today = date_text(local_today())
    answer = c.say("protocolos da empresa")
    assert f"{number}: alteração de dados da empresa, aberto (aberto em {today})" in answer, answer
    # by its number: the kind and the status ("aberto": nobody of the registration team has taken it yet)
    answer = c.say(f"acompanhar o protocolo {number} da empresa")
    assert f"Protocolo {number}: alteração de dados da empresa" in answer, answer
    assert re.search(r"(, |Situação: )aberto\.", answer), answer


def test_a_protocol_that_is_not_the_companys_is_not_shown_to_it(pristine_stack):
    with backend_db(pristine_stack) as db:  # Maria's card reissue for João (the seed): a beneficiary's protocol
        theirs = db.execute(
            sa.text("SELECT number FROM protocols WHERE kind = 'card_reissue' AND company_id IS NULL")
        ).scalar_one()
    c = Chat(pristine_stack, "rh-protocols")
    answer = fernanda(pristine_stack, c, "protocolos da empresa")
    assert "Acesso confirmado, Fernanda" in answer and theirs not in answer, answer
    # a number nobody has (the HR user mistyped the sequence)
    nobody = theirs[:-4] + "9999"
    answer = c.say(f"acompanhar o protocolo {nobody} da empresa")
    assert "Não encontrei esse protocolo" in answer, answer
    # the beneficiary's number typed in the company's conversation: not the company's, so not shown to it
    answer = c.say(f"acompanhar o protocolo {theirs} da empresa")
    assert "Não encontrei esse protocolo" in answer, answer
    assert "carteirinha" not in answer and "andamento" not in answer, answer


# --- reports ---------------------------------------------------------------------------------------


def test_reports_of_active_beneficiaries_and_of_last_months_usage_open_and_a_tampered_link_is_refused(
    pristine_stack,
):
    c = Chat(pristine_stack, "rh-reports")
    answer = fernanda(pristine_stack, c, "preciso do relatorio dos funcionarios ativos no plano")
    assert "Qual relatório você quer?" in answer, answer
    answer = c.say(payload_of(c, "Beneficiários ativos"))
    assert "Em qual formato?" in answer, answer
    pdf_button = payload_of(c, "PDF")
    answer = c.say(payload_of(c, "Planilha (CSV)"))
    assert "Relatório de beneficiários ativos da Construtora Horizonte Ltda em CSV" in answer, answer
    assert "2 beneficiários ativos" in answer, answer
    csv_link = link_in(answer)
    content_type, body = fetch(csv_link)
    assert content_type == "text/csv", content_type
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Nome;CPF;Carteirinha;"), lines
    paulo = line_of("\n".join(lines), "Paulo Henrique Dias")
    assert "***.640.275-**" in paulo and "500100000101" in paulo and "Odonto Essencial" in paulo, paulo
    assert "Paulo Henrique Dias" in line_of("\n".join(lines), "Lívia Dias")  # her holder
    assert "Renata Costa" not in body.decode("utf-8-sig")  # inactive: not in the active list
    assert b"31864027517" not in body and PAULO_CPF.encode() not in body  # the CPF is masked (LGPD)

    # the PDF button of the same question, tapped afterwards
    answer = c.say(pdf_button)
    assert "Relatório de beneficiários ativos da Construtora Horizonte Ltda em PDF" in answer, answer
    content_type, body = fetch(link_in(answer))
    assert content_type == "application/pdf" and body.startswith(b"%PDF"), (content_type, body[:20])
    text = pdf_text(body)
    assert "Paulo Henrique Dias" in text and "Construtora Horizonte Ltda" in text and "Renata Costa" not in text, text

    # last month's usage, in PDF
    today = local_today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    answer = c.say("relatorio de utilizacao do plano pelos funcionarios")
    assert "Qual relatório você quer?" in answer and "código de usuário" not in answer, answer
    c.say(payload_of(c, "Utilização"))
    answer = c.say(payload_of(c, "PDF"))
    assert f"utilização do plano de {month_name(last_month.month, last_month.year)}" in answer, answer
    assert "2 beneficiários, 3 atendimentos, R$ 360,00" in answer, answer  # Paulo 2 and Lívia 1 (the seed)
    content_type, body = fetch(link_in(answer))
    assert content_type == "application/pdf" and body.startswith(b"%PDF"), (content_type, body[:20])
    text = pdf_text(body)
    assert "Paulo Henrique Dias" in text and "Lívia Dias" in text and "R$ 360,00" in text, text
    assert "Sorriso Sergipe" not in text and "Restauração" not in text, text  # no provider, no procedure

    # the CSV link edited to point at another company: refused, nothing of the report in the page
    status, page = refused_status(with_other_company(csv_link))
    assert status in (403, 404), status
    assert "Paulo Henrique Dias" not in page and "***.640.275-**" not in page


# --- the company's data and plans ------------------------------------------------------------------


def test_company_data_and_contracted_plans(pristine_stack):
    c = Chat(pristine_stack, "rh-data")
    answer = fernanda(pristine_stack, c, "quero ver os dados cadastrais da empresa")
    assert "Construtora Horizonte Ltda" in answer and "Código da empresa: 500100" in answer, answer
    assert f"CNPJ: {FERNANDA['cnpj']}" in answer and "contato@horizonte.exemplo.com.br" in answer, answer
    assert "Horizonte Incorporações Ltda" in answer, answer  # the group's other company
    assert "Alterar contato" in c.buttons, c.buttons
    answer = c.say("quais planos a empresa contratou?")
    assert "Planos contratados pela Construtora Horizonte Ltda" in answer, answer
    essencial, plus = line_of(answer, "Odonto Essencial"), line_of(answer, "Odonto Plus")
    assert "2 beneficiário(s) ativo(s)" in essencial and "482915193" in essencial, essencial  # Paulo and Lívia
    assert "0 beneficiário(s) ativo(s)" in plus, plus  # Renata, its only one, is inactive


# --- access without the password -------------------------------------------------------------------


def test_forgotten_password_a_link_by_e_mail_and_the_new_password_set_on_the_page(pristine_stack):
    c = Chat(pristine_stack, "rh-forgot-password")
    assert "código de usuário" in c.say("esqueci a senha do portal da empresa")
    assert "CNPJ" in c.say("rh500101")
    wrong = c.say(GROUP_CNPJ)  # a valid CNPJ, but not the one of RH500101's company
    assert "Se os dados estiverem certos, enviei para o e-mail cadastrado um link" in wrong, wrong
    assert mails_to(pristine_stack, FERNANDA["email"]) == []  # nothing sent, and nothing told
    assert "código de usuário" in c.say("esqueci a senha do portal da empresa")
    assert "CNPJ" in c.say("rh500101")
    answer = c.say("33445566000186")
    assert answer == wrong, (answer, wrong)  # the same answer whether the data matched or not
    assert "30 minutos" in answer and not c.buttons, answer  # done: nothing more asked in the chat
    [mail] = mails_to(pristine_stack, FERNANDA["email"])
    assert "nova senha do portal da empresa" in mail and "RH500101" in mail, mail
    link = LINK_RE.search(mail)
    assert link and "/conta/senha-empresa/" in link.group(0), mail
    # the password is typed on the page, never in the chat
    with urllib.request.urlopen(link.group(0), timeout=30) as resp:
        page = resp.read().decode()
    assert "Crie a sua senha do portal da empresa" in page and 'type="password"' in page, page
    status, page = submit_page_form(link.group(0), {"nova_senha": "Horizonte#2031", "confirmacao": "Horizonte#2031"})
    assert status == 200 and "Senha criada!" in page, page
    login = f"{pristine_stack.backend_url}/api/company/auth/login"
    headers = service_headers(pristine_stack)
    status, body = http_json("POST", login, {"user_code": "RH500101", "password": "Horizonte#2031"}, headers)
    assert status == 200, body
    status, body = http_json("POST", login, {"user_code": "RH500101", "password": "Empresa@2024"}, headers)
    assert status == 401, body  # the old one no longer opens the portal


def test_forgotten_user_code_goes_by_e_mail_only(pristine_stack):
    c = Chat(pristine_stack, "rh-forgot-user")
    assert "código da empresa" in c.say("esqueci meu usuario do portal da empresa")
    assert "CNPJ" in c.say("500100")
    assert "e-mail" in c.say("33.445.566/0001-86")
    answer = c.say("dp@horizonte.exemplo.com.br")
    assert "Se os dados estiverem certos, enviei o seu código de usuário para o e-mail cadastrado" in answer, answer
    assert "RH500102" not in answer.upper(), answer  # the code is never said in the chat
    [mail] = mails_to(pristine_stack, DIEGO["email"])
    assert "RH500102" in mail and "Construtora Horizonte Ltda" in mail, mail
    assert mails_to(pristine_stack, FERNANDA["email"]) == []  # only the user with that e-mail


# --- portal users: deactivation --------------------------------------------------------------------


def test_the_admin_deactivates_diego_which_ends_his_chat_session_and_his_report_link(pristine_stack):
    d = Chat(pristine_stack, "rh-diego")
    answer = diego(pristine_stack, d, "preciso do relatorio dos funcionarios ativos no plano")
    assert "Acesso confirmado, Diego" in answer and "Qual relatório você quer?" in answer, answer
    d.say(payload_of(d, "Beneficiários ativos"))
    diegos_link = link_in(d.say(payload_of(d, "Planilha (CSV)")))
    assert "Paulo Henrique Dias" in fetch(diegos_link)[1].decode("utf-8-sig")  # any user of the company may

    f = Chat(pristine_stack, "rh-admin")
    answer = fernanda(pristine_stack, f, "lista de usuarios do portal da empresa")
    assert "Usuários do portal da Construtora Horizonte Ltda" in answer, answer
    assert "RH500102 — Diego Martins: usuário, ativo" in answer, answer
    assert "Desativar RH500102" in f.buttons and "Desativar RH500101" not in f.buttons, f.buttons  # not oneself
    answer = f.say(payload_of(f, "Desativar RH500102"))
    assert "Desativar o acesso de RH500102 ao portal?" in answer, answer  # asked first
    assert user_status(pristine_stack, "RH500102") == "active"
    answer = f.say(payload_of(f, "Sim, desativar"))
    assert "Usuário RH500102 (Diego Martins) inativado" in answer, answer
    answer = f.say("usuarios do portal da empresa")
    assert "RH500102 — Diego Martins: usuário, inativo" in answer, answer
    assert "Desativar RH500102" not in f.buttons, f.buttons

    # Diego: his report link opens nothing now, and his chat session is over
    status, page = refused_status(diegos_link)
    assert status == 404 and "Paulo Henrique Dias" not in page, status
    answer = d.say("dados da empresa")
    assert "A confirmação do acesso da empresa expirou" in answer and "Código da empresa" not in answer, answer
    assert "código de usuário" in d.say("dados da empresa")
    assert "CNPJ" in d.say(DIEGO["user"])
    before = mails_to(pristine_stack, DIEGO["email"])
    answer = d.say(FERNANDA["cnpj"])
    assert "Se o código de usuário e o CNPJ estiverem certos" in answer, answer  # the same answer as ever...
    assert mails_to(pristine_stack, DIEGO["email"]) == before  # ...but no code for an inactive user


def test_a_plain_user_cannot_deactivate_anyone(pristine_stack):
    d = Chat(pristine_stack, "rh-diego-deactivates")
    answer = diego(pristine_stack, d, "desativar usuario do portal da empresa")
    assert "Acesso confirmado, Diego" in answer, answer
    assert "Só o administrador do portal da empresa pode fazer isso" in answer, answer
    assert "Desativar" not in " ".join(d.buttons) and "Falar com atendente" in d.buttons, d.buttons
    # the confirmation's button typed by hand, for Fernanda: the backend refuses it too
    answer = d.say('/empresa_usuarios{"empresa_opcao": "desativar!:RH500101"}')
    assert "Só o administrador do portal da empresa pode fazer isso" in answer, answer
    assert "inativado" not in answer, answer
    assert user_status(pristine_stack, "RH500101") == "active"


# --- portal users: an edit ---------------------------------------------------------------------------


def test_the_admin_changes_diegos_e_mail_and_his_next_code_goes_to_the_new_one(pristine_stack):
    new_email = "diego.martins@horizonte.exemplo.com.br"
    f = Chat(pristine_stack, "rh-edit-user")
    answer = fernanda(pristine_stack, f, "alterar usuario do portal da empresa")
    assert "Qual usuário você quer alterar?" in answer, answer
    assert "RH500102 — Diego Martins" in f.buttons, f.buttons
    answer = f.say(payload_of(f, "RH500102"))
    assert "O que muda no usuário RH500102?" in answer and f.buttons[:3] == ["Nome", "E-mail", "Perfil"], answer
    assert "Qual é o novo e-mail?" in f.say(payload_of(f, "E-mail"))
    answer = f.say("diego.martins@horizonte")
    assert "Confere" not in answer, answer  # not an e-mail: said and asked again
    answer = f.say(new_email)
    assert "Confere a alteração do usuário RH500102?" in answer and new_email in answer, answer
    answer = f.say("sim")
    assert "Alteração de e-mail do usuário RH500102 feita." in answer, answer
    # what Diego notices: his next one-time code arrives at the new address, none at the old one
    d = Chat(pristine_stack, "rh-diego-new-email")
    before_old = mails_to(pristine_stack, DIEGO["email"])
    answer = verify_as(pristine_stack, d, "sou do rh", DIEGO["user"], new_email)
    assert "Acesso confirmado, Diego" in answer, answer
    assert mails_to(pristine_stack, DIEGO["email"]) == before_old
