"""The portal's users added and edited from the chat (bot/actions/company_users.py): an admin is asked
the questions and gets the backend's answer; a plain user is asked nothing and gets the backend's
refusal, politely, with a human."""

from __future__ import annotations

import pytest
from company_chat_support import FakeCompanyBackend, company_verified, install, plain_user, refusal, register_asks
from form_turns import form_turn
from rasa_sdk.executor import CollectingDispatcher
from tracker_support import button_titles, conversation, slot_events, texts

from bot.actions.company_users import (
    ActionAskEmpresaEdCampo,
    ActionAskEmpresaEdCodigo,
    ActionAskEmpresaEdConfirmar,
    ActionAskEmpresaEdValor,
    ActionAskEmpresaUsrConfirmar,
    ActionAskEmpresaUsrPerfil,
    ActionEmpresaCadastrarUsuario,
    ActionEmpresaEditarUsuario,
    ValidateEmpresaEditarUsuarioForm,
    ValidateEmpresaNovoUsuarioForm,
)

register_asks(
    ActionAskEmpresaUsrPerfil(),
    ActionAskEmpresaUsrConfirmar(),
    ActionAskEmpresaEdCodigo(),
    ActionAskEmpresaEdCampo(),
    ActionAskEmpresaEdValor(),
    ActionAskEmpresaEdConfirmar(),
)
NEW = "empresa_novo_usuario_form"
EDIT = "empresa_editar_usuario_form"
ADMIN_ONLY = "Só o administrador do portal da empresa pode fazer isso. Peça ao administrador da sua empresa."


@pytest.fixture
def company_backend(monkeypatch, fake_backend) -> FakeCompanyBackend:
    return install(monkeypatch)


def in_form(form, text, requested, intent="informar", entities=None, session=company_verified, **slots):
    return conversation(
        form, text, intent=intent, entities=entities, requested=requested, verified=False, **session(**slots)
    )


async def finish(action, domain, session=company_verified, **slots) -> tuple[CollectingDispatcher, list[dict]]:
    dispatcher = CollectingDispatcher()
    tracker = conversation(None, "sim", intent="afirmar", verified=False, **session(**slots))
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher, events


async def test_an_admin_adds_a_user_question_by_question(domain, company_backend):
    form = ValidateEmpresaNovoUsuarioForm()
    turn = await form_turn(form, domain, in_form(NEW, "cadastrar usuario", None, intent="empresa_cadastrar_usuario"))
    assert turn.asked == "utter_ask_empresa_usr_nome"
    turn = await form_turn(form, domain, in_form(NEW, "Carla Mendes Souza", "empresa_usr_nome"))
    assert turn.slots["empresa_usr_nome"] == "Carla Mendes Souza" and turn.asked == "utter_ask_empresa_usr_email"
    answers = {"empresa_usr_nome": "Carla Mendes Souza"}
    turn = await form_turn(
        form, domain, in_form(NEW, "o email é carla@horizonte.com.br", "empresa_usr_email", **answers)
    )
    assert turn.slots["empresa_usr_email"] == "carla@horizonte.com.br" and turn.asked == "action_ask_empresa_usr_perfil"
    assert turn.question_buttons[0] == ["Administrador", "Usuário comum"]
    answers["empresa_usr_email"] = "carla@horizonte.com.br"
    # "usuario comum" reads as the users' list: still the answer here
    turn = await form_turn(
        form, domain, in_form(NEW, "usuario comum", "empresa_usr_perfil", intent="empresa_usuarios", **answers)
    )
    assert turn.slots["empresa_usr_perfil"] == "user" and turn.asked == "action_ask_empresa_usr_confirmar"
    assert "Nome: Carla Mendes Souza\nE-mail: carla@horizonte.com.br\nPerfil: Usuário comum" in turn.question_texts[0]
    answers["empresa_usr_perfil"] = "user"
    dispatcher, events = await finish(ActionEmpresaCadastrarUsuario(), domain, empresa_usr_confirmar=True, **answers)
    assert company_backend.asked("add_user") == [
        {"name": "Carla Mendes Souza", "email": "carla@horizonte.com.br", "role": "user"}
    ]
    assert texts(dispatcher) == ["Usuário RH500103 (Carla Mendes Souza) incluído como usuário."]
    assert slot_events(events)["empresa_usr_email"] is None


async def test_a_bad_email_is_said_and_the_third_ask_rephrased(domain, company_backend):
    form = ValidateEmpresaNovoUsuarioForm()
    answers = {"empresa_usr_nome": "Carla Mendes Souza"}
    turn = await form_turn(
        form, domain, in_form(NEW, "carla arroba", "empresa_usr_email", pergunta_vezes=2.0, **answers)
    )
    assert turn.slots["empresa_usr_email"] is None and "e-mail" in turn.texts[0].lower()
    assert turn.slots["pergunta_vezes"] == 3.0 and turn.question_texts[0].startswith("Vamos de novo")
    assert turn.question_buttons[0] == ["Falar com atendente", "Cancelar"]


async def test_a_plain_user_is_asked_nothing_and_gets_the_backends_refusal(domain, company_backend):
    form = ValidateEmpresaNovoUsuarioForm()
    tracker = in_form(NEW, "cadastrar usuario", None, intent="empresa_cadastrar_usuario", session=plain_user)
    turn = await form_turn(form, domain, tracker)
    assert turn.asked is None  # the form ends at once
    company_backend.users_list = refusal(403, "company_admin_only", ADMIN_ONLY)
    dispatcher, _ = await finish(ActionEmpresaCadastrarUsuario(), domain, session=plain_user)
    assert company_backend.asked("add_user") == []
    assert texts(dispatcher) == [ADMIN_ONLY] and button_titles(dispatcher) == ["Falar com atendente"]


async def test_an_email_already_in_use_is_the_backends_refusal(domain, company_backend):
    company_backend.user_change = refusal(
        409, "email_in_use", "Esse e-mail já é de outro usuário do portal da empresa."
    )
    dispatcher, _ = await finish(
        ActionEmpresaCadastrarUsuario(),
        domain,
        empresa_usr_confirmar=True,
        empresa_usr_nome="Carla Mendes Souza",
        empresa_usr_email="dp@horizonte.exemplo.com.br",
        empresa_usr_perfil="user",
    )
    assert texts(dispatcher) == ["Esse e-mail já é de outro usuário do portal da empresa."]


async def test_an_admin_edits_a_users_email(domain, company_backend):
    form = ValidateEmpresaEditarUsuarioForm()
    turn = await form_turn(form, domain, in_form(EDIT, "alterar usuario", None, intent="empresa_editar_usuario"))
    assert turn.asked == "action_ask_empresa_ed_codigo"
    assert turn.question_buttons[0] == ["RH500101 — Fernanda Rocha", "RH500102 — Diego Martins"]
    turn = await form_turn(form, domain, in_form(EDIT, "/informar", "empresa_ed_codigo", entities=_opt("RH500102")))
    assert turn.slots["empresa_ed_codigo"] == "RH500102" and turn.asked == "action_ask_empresa_ed_campo"
    assert turn.question_buttons[0] == ["Nome", "E-mail", "Perfil"]
    answers = {"empresa_ed_codigo": "RH500102"}
    turn = await form_turn(form, domain, in_form(EDIT, "o email", "empresa_ed_campo", **answers))
    assert turn.slots["empresa_ed_campo"] == "email" and turn.question_texts[0] == "Qual é o novo e-mail?"
    answers["empresa_ed_campo"] = "email"
    turn = await form_turn(form, domain, in_form(EDIT, "diego.m@horizonte.com.br", "empresa_ed_valor", **answers))
    assert turn.slots["empresa_ed_valor"] == "diego.m@horizonte.com.br"
    assert "Confere a alteração do usuário RH500102?\nE-mail novo: diego.m@horizonte.com.br" in turn.question_texts[0]
    answers["empresa_ed_valor"] = "diego.m@horizonte.com.br"
    company_backend.user_change = type(company_backend.user_change)("Alteração de e-mail do usuário RH500102 feita.")
    dispatcher, _ = await finish(ActionEmpresaEditarUsuario(), domain, empresa_ed_confirmar=True, **answers)
    assert company_backend.asked("edit_user") == [("RH500102", {"email": "diego.m@horizonte.com.br"})]
    assert texts(dispatcher) == ["Alteração de e-mail do usuário RH500102 feita."]


async def test_the_lists_edit_button_names_the_user_in_the_request(domain, company_backend):
    form = ValidateEmpresaEditarUsuarioForm()
    tracker = in_form(EDIT, "/empresa_editar_usuario", None, intent="empresa_editar_usuario", entities=_opt("RH500102"))
    turn = await form_turn(form, domain, tracker)
    assert turn.slots["empresa_ed_codigo"] == "RH500102" and turn.asked == "action_ask_empresa_ed_campo"


async def test_a_role_change_is_asked_with_buttons_and_an_unknown_role_explained(domain, company_backend):
    form = ValidateEmpresaEditarUsuarioForm()
    answers = {"empresa_ed_codigo": "RH500102", "empresa_ed_campo": "role"}
    turn = await form_turn(form, domain, in_form(EDIT, "chefe", "empresa_ed_valor", **answers))
    assert turn.slots["empresa_ed_valor"] is None
    assert turn.texts == ["Não entendi o perfil. Toque em Administrador ou em Usuário comum."]
    assert turn.question_buttons[0] == ["Administrador", "Usuário comum"]
    turn = await form_turn(
        form, domain, in_form(EDIT, "/informar", "empresa_ed_valor", entities=_opt("admin"), **answers)
    )
    assert turn.slots["empresa_ed_valor"] == "admin" and "Perfil novo: Administrador" in turn.question_texts[0]


async def test_a_plain_user_cannot_edit_either(domain, company_backend):
    company_backend.users_list = refusal(403, "company_admin_only", ADMIN_ONLY)
    dispatcher, _ = await finish(ActionEmpresaEditarUsuario(), domain, session=plain_user)
    assert company_backend.asked("edit_user") == [] and texts(dispatcher) == [ADMIN_ONLY]


def _opt(value: str) -> list[dict]:
    return [{"entity": "empresa_opcao", "value": value}]
