"""POST /api/email-changes: a confirmation link to the new address; with an address on file, a
notice to it with a cancel link, and the change waits (backend.email_change says why).

Also the page of that cancel link, /conta/cancelar-troca-de-email/{token} (GET shows a button,
POST with the form's CSRF token cancels: mail scanners open links too)."""

from aiohttp import web

from backend.api.context import OPERATOR, SESSIONS, SETTINGS, mail_services
from backend.api.forms import Form, required
from backend.api.identity import NAME_MAX_LENGTH, verified_beneficiary
from backend.api.responses import json_response
from backend.email_change import (
    CANCEL_PATH,
    EMAIL_CHANGE_WAIT,
    CancelOutcome,
    EmailChangeResult,
    cancel_email_change,
    find_by_cancel_token,
    request_email_change,
)
from backend.web import csrf
from backend.web.pages import fill, message, page
from common.pii import mask_email
from common.validators import normalize_email

routes = web.RouteTableDef()


def change_body(result: EmailChangeResult) -> dict:
    """What the assistant needs to explain a change: when it happens (null: on confirmation)."""
    return {
        "protocol": result.protocol,
        "new_email_masked": result.new_email_masked,
        "effective_at": result.effective_at.isoformat(timespec="seconds") + "Z" if result.effective_at else None,
        "effective_text": result.effective_text,
        "wait_hours": int(EMAIL_CHANGE_WAIT.total_seconds() // 3600) if result.effective_at else 0,
        "repeated": result.repeated,
    }


@routes.post("/api/email-changes")
async def create_email_change(request: web.Request) -> web.Response:
    """Body {verification, full_name, new_email, conversation_id, channel} -> 201 {protocol,
    new_email_masked, effective_at (ISO UTC, null when there is no address on file and the
    confirmation is enough), effective_text ("02/12 às 14h35"), wait_hours, repeated (the same
    request moments ago: same protocol, nothing sent)}; 401/423 wrong full name; 409; 429; 503."""
    form = await Form.read(request)
    token = form.verification()
    full_name = form.text("full_name", "o seu nome completo", max_length=NAME_MAX_LENGTH)
    new_email = form.parsed("new_email", "o novo e-mail", normalize_email)
    channel, conversation_id = form.channel(), form.conversation_id(request)
    form.validate()
    async with request.app[SESSIONS]() as session:
        beneficiary = await verified_beneficiary(request, session, token, conversation_id)
        result = await request_email_change(
            session,
            beneficiary,
            required(full_name),
            required(new_email),
            channel=channel,
            conversation_id=conversation_id,
            mail=mail_services(request),
        )
    return json_response(change_body(result), status=201)


# --- the cancel link's page ----------------------------------------------------------------------


def _page_message(request: web.Request, title: str, *paragraphs: str, status: int = 200) -> web.Response:
    response = message(request.app[OPERATOR], title, *paragraphs, status=status)
    csrf.forget(response, request)
    return response


def _unknown(request: web.Request) -> web.Response:
    return _page_message(
        request,
        "Link não encontrado",
        "Não encontramos este link. Confira se o endereço foi copiado inteiro.",
        status=404,
    )


def _after(request: web.Request, outcome: str) -> web.Response:
    phone = request.app[OPERATOR].phones["central_24h"]
    if outcome == CancelOutcome.CANCELLED:
        return _page_message(
            request,
            "Troca de e-mail cancelada",
            "Pronto: o e-mail do seu cadastro continua o mesmo.",
            f"Se não foi você quem pediu a troca, alguém pode ter os seus dados: ligue para a "
            f"nossa central 24h, {phone}.",
        )
    if outcome == CancelOutcome.ALREADY_CANCELLED:
        return _page_message(
            request,
            "Esta troca já foi cancelada",
            "O e-mail do seu cadastro continua o mesmo. Não é preciso fazer mais nada.",
            status=410,
        )
    if outcome == CancelOutcome.ALREADY_APPLIED:
        return _page_message(
            request,
            "Esta troca já foi feita",
            "O prazo para cancelar acabou e o e-mail do cadastro já foi trocado.",
            f"Se não foi você quem pediu, ligue agora para a nossa central 24h: {phone}.",
            status=410,
        )
    return _unknown(request)


@routes.get(CANCEL_PATH + "/{token}")
async def cancel_form(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        change = await find_by_cancel_token(session, request.match_info["token"])
        await session.commit()
    if change is None:
        return _unknown(request)
    if change.cancelled_at is not None:
        return _after(request, CancelOutcome.ALREADY_CANCELLED)
    if change.applied_at is not None:
        return _after(request, CancelOutcome.ALREADY_APPLIED)
    token = csrf.new_token()
    body = fill(
        "message", title="Cancelar a troca de e-mail", paragraphs=_cancel_form(mask_email(change.new_email), token)
    )
    response = page(request.app[OPERATOR], "Cancelar a troca de e-mail", body)
    csrf.bind(response, request, token, secure=request.app[SETTINGS].public_backend_url.startswith("https:"))
    return response


def _cancel_form(new_email_masked: str, csrf_token: str):
    from html import escape

    from backend.web.pages import Html

    return Html(
        f"<p>Pediram a troca do e-mail do seu cadastro para <strong>{escape(new_email_masked)}</strong>.</p>"
        "<p>Se não foi você, ou se mudou de ideia, toque no botão: o e-mail do cadastro continua o mesmo.</p>"
        f'<form method="post"><input type="hidden" name="csrf_token" value="{escape(csrf_token)}">'
        '<button type="submit">Cancelar a troca</button></form>'
    )


@routes.post(CANCEL_PATH + "/{token}")
async def cancel_submit(request: web.Request) -> web.Response:
    if not csrf.is_valid(request, await request.post()):
        return message(
            request.app[OPERATOR],
            "Não foi possível enviar o formulário",
            "Por segurança, abra o link de novo e toque no botão outra vez.",
            status=403,
        )
    async with request.app[SESSIONS]() as session:
        outcome = await cancel_email_change(session, request.match_info["token"])
    return _after(request, outcome)
