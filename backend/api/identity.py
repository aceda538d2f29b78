"""POST /api/identity/verifications: the identity check every flow of the assistant starts with."""

from datetime import timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.errors import ApiError, retry_after
from backend.api.forms import DEFAULT_CHANNEL, FORM, Form, required
from backend.api.responses import json_response
from backend.family import visible_members
from backend.identity import (
    FULL_SCOPE,
    REGISTRATION_SCOPE,
    IdentityClaim,
    IdentityLocked,
    IdentityNotConfirmed,
    TooManyAttempts,
    VerificationOutOfScope,
    issue_verification,
    redeem_verification,
    verify_identity,
)
from backend.models import ACTIVE, Beneficiary
from backend.rate_limits import DataKeys, too_many, try_again_text
from common.pii import mask_email
from common.validators import classify_login, normalize_birth_date, normalize_cpf

routes = web.RouteTableDef()
NAME_MAX_LENGTH = 160


def identity_not_confirmed(attempts_left: int) -> ApiError:
    return ApiError(
        401,
        "identity_not_confirmed",
        "Não consegui confirmar seus dados. Confira as informações e tente de novo.",
        attempts_left=attempts_left,
    )


def identity_locked(retry_after_minutes: int) -> ApiError:
    return retry_after(
        423,
        "identity_locked",
        "Por segurança, a confirmação de identidade ficou bloqueada por alguns minutos "
        f"depois de várias tentativas. {try_again_text(retry_after_minutes * 60)}",
        retry_after_minutes,
    )


def verified_session_ttl(request: web.Request) -> timedelta:
    return timedelta(minutes=request.app[SETTINGS].verified_session_minutes)


def _verification_invalid() -> ApiError:
    return ApiError(401, "verification_invalid", "A confirmação dos seus dados expirou. Confirme seus dados de novo.")


def request_channel(request: web.Request) -> str:
    """The channel a verified request comes from: the `X-Channel` header and/or the body's
    `channel` (they must agree), "rest" when neither is given."""
    header = request.headers.get("X-Channel") or None
    form = request.get(FORM)
    body = form.sent_channel() if form is not None else None
    if header and body and header != body:
        raise _verification_invalid()
    return header or body or DEFAULT_CHANNEL


async def verified_beneficiary(
    request: web.Request, session: AsyncSession, token: str, conversation_id: str, *, for_registration: bool = False
) -> Beneficiary:
    """The beneficiary a verification token vouches for, when it was issued to this conversation
    on this channel (request_channel); 401 verification_invalid otherwise. A verification made
    without CPF serves only requests with `for_registration` (POST /api/registrations): any
    other answers 401 verification_invalid with `reason` "cpf_required".
    Each use keeps the verified session alive (see backend.identity.redeem_verification)."""
    scopes = frozenset({FULL_SCOPE, REGISTRATION_SCOPE}) if for_registration else frozenset({FULL_SCOPE})
    try:
        beneficiary = await redeem_verification(
            session,
            token,
            conversation_id,
            verified_session_ttl(request),
            channel=request_channel(request),
            accepted_scopes=scopes,
        )
    except VerificationOutOfScope:
        raise ApiError(
            401,
            "verification_invalid",
            "Para isso eu preciso confirmar seus dados com o CPF: a confirmação sem CPF vale só "
            "para o cadastro no aplicativo.",
            reason="cpf_required",
        ) from None
    if beneficiary is None:
        raise _verification_invalid()
    return beneficiary


async def verified_from_headers(request: web.Request, session: AsyncSession) -> Beneficiary:
    """For GET requests: the token in `X-Verification`, the conversation in `X-Conversation-Id`,
    its channel in `X-Channel`."""
    token = request.headers.get("X-Verification", "")
    conversation_id = request.headers.get("X-Conversation-Id", "")
    if not token or not conversation_id:
        raise ApiError(401, "verification_invalid", "Confirme seus dados para continuar.")
    return await verified_beneficiary(request, session, token, conversation_id)


@routes.post("/api/identity/verifications")
async def create_verification(request: web.Request) -> web.Response:
    """Body {login, cpf | no_cpf: true, birth_date, mother_name?, conversation_id, channel}.

    201 {token, expires_in_minutes, first_name, email_masked, has_account, plan_active,
    dependents (how many the holder has), scope}; 401 the same whatever did not match; 423; 429.
    The token is bound to (channel, conversation_id). `scope` "registration" (no_cpf): it serves
    POST /api/registrations only; "full": every verified request.
    """
    form = await Form.read(request)
    login = form.parsed("login", "o número da carteirinha ou o e-mail", classify_login)
    no_cpf = form.flag("no_cpf")
    cpf = None
    if not no_cpf:
        cpf = form.parsed("cpf", "o CPF", normalize_cpf)
    elif form.optional("cpf", max_length=20):
        form.errors["cpf"] = "Você marcou que não possui CPF: envie sem o CPF ou desmarque essa opção."
    birth_date = form.parsed("birth_date", "a data de nascimento", normalize_birth_date)
    mother_name = None
    if request.app[OPERATOR].identity_requires_mother_name:
        mother_name = form.text("mother_name", "o nome completo da sua mãe", max_length=NAME_MAX_LENGTH)
    conversation_id = form.conversation_id(request)
    channel = form.channel()
    form.validate()
    scope = REGISTRATION_SCOPE if no_cpf else FULL_SCOPE

    login_kind, login_value = required(login)
    claim = IdentityClaim(
        login_kind=login_kind, login=login_value, cpf=cpf, birth_date=required(birth_date), mother_name=mother_name
    )
    try:
        async with request.app[SESSIONS]() as session:
            beneficiary = await verify_identity(
                session, claim, conversation_id, channel=channel, keys=DataKeys(request.app[SETTINGS].data_hmac_secret)
            )
            token = await issue_verification(
                session, beneficiary, conversation_id, verified_session_ttl(request), channel=channel, scope=scope
            )
            dependents = len(await visible_members(session, beneficiary)) - 1
    except IdentityNotConfirmed as exc:
        raise identity_not_confirmed(exc.attempts_left) from None
    except IdentityLocked as exc:
        raise identity_locked(exc.retry_after_minutes) from None
    except TooManyAttempts as exc:  # a rate limit of backend.rate_limits (which one, and until when)
        raise too_many(exc.limited, "too_many_attempts") from None
    account = beneficiary.account
    return json_response(
        {
            "token": token,
            "expires_in_minutes": request.app[SETTINGS].verified_session_minutes,
            "first_name": beneficiary.name.split()[0],
            "email_masked": mask_email(beneficiary.email) if beneficiary.email else None,
            "has_account": account is not None and account.status == ACTIVE,
            "plan_active": beneficiary.status == ACTIVE,
            "dependents": dependents,
            "scope": scope,
        },
        status=201,
    )


@routes.get("/api/family")
async def family(request: web.Request) -> web.Response:
    """Headers X-Verification, X-Conversation-Id. 200 {members: [{name, first_name, card_number,
    holder}]}: the verified beneficiary first, then (for a holder) their dependents — whom the
    assistant may offer when a request can be for someone else."""
    async with request.app[SESSIONS]() as session:
        verified = await verified_from_headers(request, session)
        members = await visible_members(session, verified)
    return json_response(
        {
            "members": [
                {
                    "name": person.name,
                    "first_name": person.name.split()[0],
                    "card_number": person.card_number,
                    "holder": person.holder_id is None,
                }
                for person in members
            ]
        }
    )
