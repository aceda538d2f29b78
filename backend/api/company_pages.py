"""GET, POST /conta/senha-empresa/{token}: the page of the links e-mailed by backend.company.access
("Primeiro acesso", "Esqueci minha senha"): a company user creates the portal password. Public
(the link is the credential: single use, stored as its SHA-256) with the account pages' CSRF and
headers (backend.web). GET shows the form without using the link (mail scanners open links too);
a successful POST uses it."""

from __future__ import annotations

from html import escape

from aiohttp import web

from backend.account_passwords import MISMATCH
from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.company.access import PAGE_PATH, USER_CODE_RULE, open_link, password_problems, set_password
from backend.links import LinkState
from backend.models import CompanyUser
from backend.passwords import hash_password
from backend.web import csrf
from backend.web.pages import Html, error_list, fill, message, page

routes = web.RouteTableDef()
_AGAIN = 'Peça um novo link no chat: escreva "primeiro acesso da empresa" ou "esqueci a senha do portal da empresa".'


def _gone(request: web.Request, state: LinkState) -> web.Response:
    texts = {
        LinkState.UNKNOWN: (
            "Link não encontrado",
            "Não encontramos este link. Confira se o endereço foi copiado inteiro.",
            404,
        ),
        LinkState.USED: ("Este link já foi usado", "Cada link funciona uma vez só, e este já foi usado.", 410),
    }
    title, text, status = texts.get(
        state,
        ("Este link venceu", "O prazo deste link acabou ou você pediu um link mais novo, que é o único que vale.", 410),
    )
    return message(request.app[OPERATOR], title, text, _AGAIN, status=status)


def _form(request: web.Request, user: CompanyUser, errors: list[str] | None = None) -> web.Response:
    operator, token = request.app[OPERATOR], csrf.new_token()
    rules = "".join(
        f'<li data-rule="{rule.code}" data-value="{"" if rule.value is None else rule.value}"'
        f"{' hidden' if rule.code == 'max_bytes' else ''}>{escape(rule.message)}</li>"
        for rule in operator.password_policy.rules()
    )
    body = fill(
        "password_form",
        heading="Crie a sua senha do portal da empresa",
        intro=f"Olá, {user.name.split()[0]}! Escolha a senha do usuário {user.user_code} ({user.company.name}).",
        errors=error_list(errors or []),
        csrf_token=token,
        current_field=Html(""),
        policy=operator.password_policy.description,
        rules=Html(rules + f"<li>{escape(USER_CODE_RULE)}</li>"),
        mismatch=MISMATCH,
        button="Criar senha",
    )
    response = page(operator, "Senha do portal da empresa", body, status=400 if errors else 200)
    csrf.bind(response, request, token, secure=request.app[SETTINGS].public_backend_url.startswith("https:"))
    return response


@routes.get(PAGE_PATH + "/{token}")
async def password_page(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        state, _, user = await open_link(session, request.match_info["token"])
    if state is not LinkState.VALID or user is None:
        return _gone(request, state)
    return _form(request, user)


@routes.post(PAGE_PATH + "/{token}")
async def password_submit(request: web.Request) -> web.Response:
    form, operator = await request.post(), request.app[OPERATOR]
    if not csrf.is_valid(request, form):
        return message(
            operator, "Não foi possível enviar o formulário", "Abra o link de novo e preencha outra vez.", status=403
        )
    password, confirmation = csrf.text_field(form, "nova_senha"), csrf.text_field(form, "confirmacao")
    async with request.app[SESSIONS]() as session:
        state, link, user = await open_link(session, request.match_info["token"])
        if state is not LinkState.VALID or link is None or user is None:
            return _gone(request, state)
        if problems := password_problems(operator.password_policy, user, password, confirmation, MISMATCH):
            return _form(request, user, problems)
        if not await set_password(session, link, await hash_password(password, request.app[SETTINGS].bcrypt_rounds)):
            return _gone(request, LinkState.USED)
    done = message(
        operator,
        "Senha criada!",
        f"Entre no portal da empresa com o código de usuário {user.user_code} e a nova senha.",
    )
    csrf.forget(done, request)
    return done
