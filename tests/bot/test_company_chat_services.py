"""The company services after the company identity (bot/actions/company_services.py): menu, data, invoices
and their slips, protocols, reports, portal users, movements' template; an expired session."""

from __future__ import annotations

import pytest
from company_chat_support import FakeCompanyBackend, company_verified, install, refusal
from rasa_sdk.executor import CollectingDispatcher
from tracker_support import button_titles, conversation, slot_events, texts

from bot.actions import company_services
from bot.actions.company_identity import _HANDLERS, ActionEmpresaServico
from bot.catalogue import CATALOGUE


@pytest.fixture
def company_backend(monkeypatch, fake_backend) -> FakeCompanyBackend:
    return install(monkeypatch)


def test_each_company_service_has_a_handler():
    assert company_services  # its @company_service handlers are registered on import
    assert set(CATALOGUE.company_service_intents()) == set(_HANDLERS)


async def serve(domain, intent: str, **values: str):
    dispatcher = CollectingDispatcher()
    tracker = conversation(
        None, "", verified=False, **company_verified(empresa_servico={"intent": intent, "values": values})
    )
    events = await ActionEmpresaServico().run(dispatcher, tracker, domain)
    return dispatcher, slot_events(events)


async def test_the_menu_greets_by_name(domain, company_backend):
    dispatcher, _ = await serve(domain, "empresa_identificacao")
    assert texts(dispatcher) == ["Olá, Fernanda! O que a Construtora Horizonte Ltda precisa hoje?"]
    assert {"Faturas", "Incluir beneficiário", "Relatórios"} <= set(button_titles(dispatcher))


async def test_company_data(domain, company_backend):
    dispatcher, _ = await serve(domain, "empresa_dados")
    [text] = texts(dispatcher)
    assert (
        "CNPJ: 33.445.566/0001-86" in text and "Telefone: não cadastrado" in text and "Horizonte Incorporações" in text
    )
    assert button_titles(dispatcher) == ["Alterar contato"]


async def test_invoices_of_a_year_with_their_status_and_slip_buttons(domain, company_backend):
    dispatcher, slots = await serve(domain, "empresa_faturas", ano="2026")
    assert company_backend.asked("invoices") == [2026]
    [text] = texts(dispatcher)
    assert "Há 1 fatura vencida e 1 em aberto." in text
    assert "• 11/2026: R$ 3.200,00, em aberto (vence em 10/11/2026)" in text
    assert "• 09/2026: R$ 3.200,00, paga em 08/09/2026" in text
    assert button_titles(dispatcher) == ["2ª via 11/2026", "2ª via 10/2026", "Faturas de 2025", "Faturas de 2024"]
    assert slots["empresa_servico"] is None  # the flow ends


async def test_a_slip_copy_without_saying_which_asks_which(domain, company_backend):
    dispatcher, _ = await serve(domain, "empresa_segunda_via_fatura")
    assert texts(dispatcher) == ["De qual fatura você quer a segunda via?"]
    assert button_titles(dispatcher) == ["11/2026 (em aberto)", "10/2026 (vencida)"]
    payload = dispatcher.messages[0]["buttons"][1]["payload"]
    assert payload == '/empresa_segunda_via_fatura{"documento": "F500100202610"}'


async def test_the_slip_copy_has_the_line_the_pix_and_the_pdf(domain, company_backend):
    dispatcher, _ = await serve(domain, "empresa_segunda_via_fatura", documento="F500100202610")
    assert company_backend.asked("invoice_slip") == ["F500100202610"]
    text = texts(dispatcher)[0]
    assert "atualizada para hoje" in text and "Linha digitável:\n34191" in text and "PIX copia e cola:" in text
    assert "http://backend/documentos/abc" in text and "Protocolo: 2026" in text
    assert dispatcher.messages[1]["custom"]["type"] == "document"
    assert "<" not in text  # no HTML


async def test_an_expired_company_session_is_forgotten(domain, company_backend):
    company_backend.invoice_list = refusal(401, "company_unauthorized", "Para isso é preciso confirmar o acesso.")
    dispatcher, slots = await serve(domain, "empresa_faturas")
    assert "expirou" in texts(dispatcher)[0]
    assert slots["empresa_token"] is None and slots["empresa_info"] is None


async def test_protocols(domain, company_backend):
    dispatcher, _ = await serve(domain, "empresa_protocolos")
    assert "inclusão de beneficiário, aberto" in texts(dispatcher)[0]


async def test_a_report_in_three_taps(domain, company_backend):
    dispatcher, _ = await serve(domain, "empresa_relatorio")
    assert button_titles(dispatcher) == ["Beneficiários ativos", "Inativos", "Utilização do mês passado"]
    dispatcher, _ = await serve(domain, "empresa_relatorio", empresa_opcao="ativos")
    assert button_titles(dispatcher) == ["Planilha (CSV)", "PDF"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == '/empresa_relatorio{"empresa_opcao": "ativos.csv"}'
    dispatcher, _ = await serve(domain, "empresa_relatorio", empresa_opcao="ativos.csv")
    assert company_backend.asked("report") == [("active", "csv")]
    assert "http://b/documentos/r" in texts(dispatcher)[0]


async def test_portal_users_and_a_deactivation_confirmed_first(domain, company_backend):
    dispatcher, _ = await serve(domain, "empresa_usuarios")
    assert "RH500102 — Diego Martins: usuário, ativo (ainda sem primeiro acesso)" in texts(dispatcher)[0]
    assert button_titles(dispatcher) == ["Desativar RH500102", "Cadastrar usuário", "Alterar usuário"]  # not oneself
    dispatcher, _ = await serve(domain, "empresa_usuarios", empresa_opcao="desativar:RH500102")
    assert company_backend.asked("deactivate_user") == []
    assert button_titles(dispatcher) == ["Sim, desativar", "Não, manter"]
    dispatcher, _ = await serve(domain, "empresa_usuarios", empresa_opcao="desativar!:RH500102")
    assert company_backend.asked("deactivate_user") == ["RH500102"]


async def test_the_movements_menu_and_the_template(domain, company_backend):
    dispatcher, _ = await serve(domain, "empresa_movimentacao")
    assert button_titles(dispatcher) == [
        "Incluir beneficiário",
        "Excluir beneficiário",
        "Alterar dados",
        "Trocar plano",
        "Reativar",
        "Transferir",
        "Modelo da planilha",
        "Enviar planilha",
    ]
    dispatcher, _ = await serve(domain, "empresa_movimentacao", empresa_opcao="modelo")
    text = texts(dispatcher)[0]
    assert "modelo-xlsx" in text and "modelo-csv" in text


async def test_without_a_company_session_nothing_is_asked_of_the_backend(domain, company_backend):
    dispatcher = CollectingDispatcher()
    tracker = conversation(None, "", verified=True, empresa_servico={"intent": "empresa_faturas", "values": {}})
    await ActionEmpresaServico().run(dispatcher, tracker, domain)
    assert company_backend.calls == []
