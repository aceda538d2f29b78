"""The company portal's access flows without the company identity (bot/actions/company_access.py)."""

from __future__ import annotations

import pytest
from company_chat_support import CNPJ, CNPJ_DIGITS, FakeCompanyBackend, install
from form_turns import form_turn
from rasa_sdk.executor import CollectingDispatcher
from tracker_support import conversation, texts

from bot.actions.company_access import (
    ActionEmpresaEsqueciSenha,
    ActionEmpresaEsqueciUsuario,
    ActionEmpresaPrimeiroAcesso,
    ValidateEmpresaPrimeiroAcessoForm,
    ValidateEmpresaUsuarioForm,
)


@pytest.fixture
def company_backend(monkeypatch, fake_backend) -> FakeCompanyBackend:
    return install(monkeypatch)


async def test_first_access_takes_the_user_code_or_the_company_code(domain, company_backend):
    form = ValidateEmpresaPrimeiroAcessoForm()
    turn = await form_turn(
        form, domain, conversation("empresa_primeiro_acesso_form", "primeiro acesso da empresa", verified=False)
    )
    assert turn.asked == "utter_ask_empresa_primeiro_acesso_form_empresa_usuario"
    turn = await form_turn(
        form,
        domain,
        conversation("empresa_primeiro_acesso_form", "500100", requested="empresa_usuario", verified=False),
    )
    assert turn.slots["empresa_usuario"] == "500100" and turn.asked == "utter_ask_empresa_cnpj"
    dispatcher = CollectingDispatcher()
    done = conversation(
        None,
        "",
        verified=False,
        empresa_usuario="RH500102",
        empresa_cnpj=CNPJ_DIGITS,
        empresa_email="dp@horizonte.exemplo.com.br",
    )
    await ActionEmpresaPrimeiroAcesso().run(dispatcher, done, domain)
    assert company_backend.asked("first_access") == [
        {"cnpj": CNPJ_DIGITS, "email": "dp@horizonte.exemplo.com.br", "user_code": "RH500102", "company_code": None}
    ]
    assert texts(dispatcher)[0].startswith("Se os dados estiverem certos, enviei um link.")


async def test_forgotten_password_and_user_code(domain, company_backend):
    dispatcher = CollectingDispatcher()
    await ActionEmpresaEsqueciSenha().run(
        dispatcher, conversation(None, "", verified=False, empresa_usuario="RH500101", empresa_cnpj=CNPJ_DIGITS), domain
    )
    assert company_backend.asked("password_reset") == [("RH500101", CNPJ_DIGITS)]
    turn = await form_turn(
        ValidateEmpresaUsuarioForm(),
        domain,
        conversation("empresa_usuario_form", "500100", requested="empresa_cod_empresa", verified=False),
    )
    assert turn.slots["empresa_cod_empresa"] == "500100"
    dispatcher = CollectingDispatcher()
    tracker = conversation(
        None,
        "",
        verified=False,
        empresa_cod_empresa="500100",
        empresa_cnpj=CNPJ_DIGITS,
        empresa_email="rh@horizonte.exemplo.com.br",
    )
    await ActionEmpresaEsqueciUsuario().run(dispatcher, tracker, domain)
    assert company_backend.asked("user_code_reminder") == [("500100", CNPJ_DIGITS, "rh@horizonte.exemplo.com.br")]
    assert CNPJ  # the same answer whatever the data: the backend's message, nothing added
    assert "não encontr" not in texts(dispatcher)[0]
