"""POST /api/password-change-links: a single-use link to the change-password page."""

from aiohttp import web

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.errors import ApiError
from backend.api.forms import Form
from backend.api.identity import verified_beneficiary
from backend.api.responses import json_response
from backend.links import PASSWORD_CHANGE, TTL
from backend.password_change import ChangeRefused, request_change_link

routes = web.RouteTableDef()


def _refusal_message(code: str, phones: dict[str, str]) -> str:
    return {
        "plan_cancelled": "Seu plano está cancelado, então não é possível trocar a senha por aqui. "
        f"Para mais informações, ligue {phones['central_24h']}.",
        "no_account": "Você ainda não tem cadastro no aplicativo. Faça o seu primeiro acesso pela opção Cadastro.",
    }[code]


@routes.post("/api/password-change-links")
async def create_password_change_link(request: web.Request) -> web.Response:
    """Body {verification, conversation_id, channel} -> 201 {url, expires_in_minutes, protocol}."""
    form = await Form.read(request)
    token = form.verification()
    channel = form.channel()
    conversation_id = form.conversation_id(request)
    form.validate()

    operator = request.app[OPERATOR]
    try:
        async with request.app[SESSIONS]() as session:
            beneficiary = await verified_beneficiary(request, session, token, conversation_id)
            link = await request_change_link(
                session,
                beneficiary,
                operator=operator,
                public_url=request.app[SETTINGS].public_backend_url,
                channel=channel,
                conversation_id=conversation_id,
            )
    except ChangeRefused as exc:
        raise ApiError(409, exc.code, _refusal_message(exc.code, operator.phones)) from None
    return json_response(
        {
            "url": link.url,
            "expires_in_minutes": int(TTL[PASSWORD_CHANGE].total_seconds() // 60),
            "protocol": link.protocol,
        },
        status=201,
    )
