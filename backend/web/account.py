"""The pages the e-mailed or chat links open: /conta/ativar, /conta/alterar-senha, /conta/confirmar-email.

GET shows the form (it does not use the link: mail scanners open links too); a successful POST uses it.
"""

from __future__ import annotations

from aiohttp import web

from backend.account_passwords import (
    HISTORY_SIZE,
    MISMATCH,
    SAME_AS_CURRENT,
    new_password_problems,
    recent_password_hashes,
)
from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.auth import AccountLocked
from backend.email_change import confirm_email_change
from backend.links import ACTIVATION, EMAIL_CHANGE, PASSWORD_CHANGE, PATHS, LinkState, find_link
from backend.models import ACTIVE, PENDING, AccountLink, Beneficiary
from backend.password_change import change_password, check_current_password
from backend.passwords import hash_password
from backend.registration import activate
from backend.web import csrf
from backend.web.pages import Html, error_list, fill, message, page, policy_rules
from common.pii import mask_email

routes = web.RouteTableDef()

_RESTART = {
    ACTIVATION: "quero me cadastrar",
    PASSWORD_CHANGE: "quero trocar minha senha",
    EMAIL_CHANGE: "quero mudar meu e-mail",
}
_ACCOUNT_STATUS = {ACTIVATION: PENDING, PASSWORD_CHANGE: ACTIVE}


def _gone(request: web.Request, purpose: str, state: LinkState) -> web.Response:
    operator = request.app[OPERATOR]
    again = f"Peça de novo no chat: escreva '{_RESTART[purpose]}'."
    if state is LinkState.UNKNOWN:
        return message(
            operator,
            "Link não encontrado",
            "Não encontramos este link. Confira se o endereço foi copiado inteiro.",
            again,
            status=404,
        )
    if state is LinkState.USED:
        return message(
            operator, "Este link já foi usado", "Cada link funciona uma vez só, e este já foi usado.", again, status=410
        )
    return message(
        operator,
        "Este link venceu",
        "O prazo deste link acabou ou você pediu um link mais novo, que é o único que vale.",
        again,
        status=410,
    )


def _csrf_refused(request: web.Request) -> web.Response:
    return message(
        request.app[OPERATOR],
        "Não foi possível enviar o formulário",
        "Por segurança, abra o link de novo e preencha o formulário outra vez.",
        status=403,
    )


async def _open(request: web.Request, session, purpose: str) -> tuple[AccountLink, Beneficiary] | web.Response:
    """The link of the URL and its beneficiary, or the page saying why the link does not work."""
    state, link = await find_link(session, purpose, request.match_info["token"])
    beneficiary = await session.get(Beneficiary, link.beneficiary_id) if link else None
    if link is None or beneficiary is None:  # a link that outlived its beneficiary is no link either
        return _gone(request, purpose, LinkState.UNKNOWN if state is LinkState.VALID else state)
    if state is LinkState.VALID and purpose in _ACCOUNT_STATUS:
        account = beneficiary.account
        if account is None or account.status != _ACCOUNT_STATUS[purpose]:
            state = LinkState.USED if purpose == ACTIVATION else LinkState.EXPIRED
    if state is not LinkState.VALID:
        return _gone(request, purpose, state)
    return link, beneficiary


def _password_form(
    request: web.Request, beneficiary: Beneficiary, purpose: str, errors: list[str] | None = None
) -> web.Response:
    operator = request.app[OPERATOR]
    token = csrf.new_token()
    first_name = beneficiary.name.split()[0]
    if purpose == ACTIVATION:
        heading, button, current = "Crie a sua senha", "Ativar cadastro", Html("")
        intro = f"Olá, {first_name}! Falta pouco: escolha uma senha para ativar o seu cadastro."
    else:
        heading, button = "Troque a sua senha", "Trocar senha"
        current = fill("current_password", label="Senha atual (ou a senha temporária do e-mail)")
        intro = f"Olá, {first_name}! Digite a senha atual e escolha uma nova."
    body = fill(
        "password_form",
        heading=heading,
        intro=intro,
        errors=error_list(errors or []),
        csrf_token=token,
        current_field=current,
        policy=operator.password_policy.description,
        rules=policy_rules(operator.password_policy, HISTORY_SIZE),
        mismatch=MISMATCH,
        button=button,
    )
    response = page(operator, heading, body, status=400 if errors else 200)
    csrf.bind(response, request, token, secure=request.app[SETTINGS].public_backend_url.startswith("https:"))
    return response


def _done(request: web.Request, title: str, *paragraphs: str) -> web.Response:
    response = message(request.app[OPERATOR], title, *paragraphs)
    csrf.forget(response, request)
    return response


async def _show_password_form(request: web.Request, purpose: str) -> web.Response:
    async with request.app[SESSIONS]() as session:
        opened = await _open(request, session, purpose)
    if isinstance(opened, web.Response):
        return opened
    return _password_form(request, opened[1], purpose)


async def _submit_password_form(request: web.Request, purpose: str) -> web.Response:
    form = await request.post()
    if not csrf.is_valid(request, form):
        return _csrf_refused(request)
    password, confirmation = csrf.text_field(form, "nova_senha"), csrf.text_field(form, "confirmacao")
    operator, settings = request.app[OPERATOR], request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        opened = await _open(request, session, purpose)
        if isinstance(opened, web.Response):
            return opened
        link, beneficiary = opened
        account = beneficiary.account
        recent = await recent_password_hashes(session, account.id)
        await session.commit()  # no database lock is held while bcrypt runs
        if purpose == PASSWORD_CHANGE:
            current = csrf.text_field(form, "senha_atual")
            try:
                if not current or not await check_current_password(session, account, current):
                    return _password_form(
                        request, beneficiary, purpose, ["A senha atual não confere. Confira e digite de novo."]
                    )
            except AccountLocked as exc:
                return message(
                    operator,
                    "Acesso bloqueado por enquanto",
                    "Por segurança, depois de várias tentativas erradas o acesso fica bloqueado. "
                    f"Tente de novo daqui a {exc.retry_after_minutes} minutos ou peça no chat: "
                    "'esqueci minha senha'.",
                    status=423,
                )
            if password == current:
                return _password_form(request, beneficiary, purpose, [SAME_AS_CURRENT])
        problems = await new_password_problems(operator.password_policy, beneficiary, password, confirmation, recent)
        if problems:
            return _password_form(request, beneficiary, purpose, problems)
        password_hash = await hash_password(password, settings.bcrypt_rounds)
        if purpose == ACTIVATION:
            done = await activate(session, link, account, beneficiary, password_hash)
        else:
            done = await change_password(session, link, account, password_hash)
    if not done:
        return _gone(request, purpose, LinkState.USED)
    if purpose == ACTIVATION:
        return _done(request, "Cadastro ativado!", "Entre no aplicativo com a carteirinha, o CPF ou o e-mail.")
    return _done(request, "Senha alterada!", "Use a nova senha no próximo acesso ao aplicativo ou ao portal.")


@routes.get(PATHS[ACTIVATION] + "/{token}")
async def activation_form(request: web.Request) -> web.Response:
    return await _show_password_form(request, ACTIVATION)


@routes.post(PATHS[ACTIVATION] + "/{token}")
async def activation_submit(request: web.Request) -> web.Response:
    return await _submit_password_form(request, ACTIVATION)


@routes.get(PATHS[PASSWORD_CHANGE] + "/{token}")
async def password_change_form(request: web.Request) -> web.Response:
    return await _show_password_form(request, PASSWORD_CHANGE)


@routes.post(PATHS[PASSWORD_CHANGE] + "/{token}")
async def password_change_submit(request: web.Request) -> web.Response:
    return await _submit_password_form(request, PASSWORD_CHANGE)


@routes.get(PATHS[EMAIL_CHANGE] + "/{token}")
async def email_confirm_form(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        opened = await _open(request, session, EMAIL_CHANGE)
    if isinstance(opened, web.Response):
        return opened
    link, beneficiary = opened
    token = csrf.new_token()
    body = fill(
        "email_confirm", first_name=beneficiary.name.split()[0], email_masked=mask_email(link.email), csrf_token=token
    )
    response = page(request.app[OPERATOR], "Confirme o seu novo e-mail", body)
    csrf.bind(response, request, token, secure=request.app[SETTINGS].public_backend_url.startswith("https:"))
    return response


@routes.post(PATHS[EMAIL_CHANGE] + "/{token}")
async def email_confirm_submit(request: web.Request) -> web.Response:
    if not csrf.is_valid(request, await request.post()):
        return _csrf_refused(request)
    async with request.app[SESSIONS]() as session:
        opened = await _open(request, session, EMAIL_CHANGE)
        if isinstance(opened, web.Response):
            return opened
        link, beneficiary = opened
        confirmed = await confirm_email_change(session, link, beneficiary)
        if confirmed is None:
            return _gone(request, EMAIL_CHANGE, LinkState.USED)
    return _done(request, confirmed.title, *confirmed.paragraphs)  # applied now, or when its wait ends
