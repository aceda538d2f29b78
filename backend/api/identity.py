"""POST /api/identity/verifications: the identity check every flow of the assistant starts with,
and how the other handlers find the beneficiary a verified request is made for.

POST /api/identity/verifications  body {login, cpf | no_cpf: true, birth_date, mother_name?,
    conversation_id, channel} -> 201 {token, expires_in_minutes, first_name, email_masked,
    has_account, plan_active, dependents (how many the holder has), scope}; 401 the same whatever
    did not match; 423; 429. The token is bound to (channel, conversation_id). `scope`
    "registration" (no_cpf): it serves POST /api/registrations only; "full": every verified request.
GET /api/family  headers X-Verification, X-Conversation-Id -> 200 {members: [{name, first_name,
    card_number, holder}]}: the verified beneficiary first, then (for a holder) their dependents —
    whom the assistant may offer when a request can be for someone else.
"""

from datetime import timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.forms import DEFAULT_CHANNEL, FORM, Form, required
from backend.api.responses import json_response
from backend.family import visible_members
from backend.identity import (
    FULL_SCOPE,
    REGISTRATION_SCOPE,
    IdentityClaim,
    Verified,
    redeem_verification,
    start_verified_session,
)
from backend.models import ACTIVE, Beneficiary
from backend.rate_limits import DataKeys
from backend.refusals import Refusals, Refused
from common.pii import mask_email
from common.validators import classify_login, normalize_birth_date, normalize_cpf

routes = web.RouteTableDef()
NAME_MAX_LENGTH = 160

REFUSALS = Refusals(
    {
        "verification_invalid": "A confirmação dos seus dados expirou. Confirme seus dados de novo.",
    }
)


def verified_session_ttl(request: web.Request) -> timedelta:
    return timedelta(minutes=request.app[SETTINGS].verified_session_minutes)


def _verification_invalid() -> Refused:
    return REFUSALS.refuse("verification_invalid")


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
    beneficiary = await redeem_verification(
        session,
        token,
        conversation_id,
        verified_session_ttl(request),
        channel=request_channel(request),
        accepted_scopes=scopes,
    )
    if beneficiary is None:
        raise _verification_invalid()
    return beneficiary


async def verified_from_headers(request: web.Request, session: AsyncSession) -> Beneficiary:
    """For GET requests: the token in `X-Verification`, the conversation in `X-Conversation-Id`,
    its channel in `X-Channel`."""
    token = request.headers.get("X-Verification", "")
    conversation_id = request.headers.get("X-Conversation-Id", "")
    if not token or not conversation_id:
        raise _verification_invalid()
    return await verified_beneficiary(request, session, token, conversation_id)


class VerificationForm(Form):
    def claim(self, requires_mother_name: bool) -> IdentityClaim | None:
        """The identity claim (None when a field is wrong: the error is recorded)."""
        login = self.parsed("login", "o número da carteirinha ou o e-mail", classify_login)
        cpf = None
        if not self.flag("no_cpf"):
            cpf = self.parsed("cpf", "o CPF", normalize_cpf)
        elif self.optional("cpf", max_length=20):
            self.errors["cpf"] = "Você marcou que não possui CPF: envie sem o CPF ou desmarque essa opção."
        birth_date = self.parsed("birth_date", "a data de nascimento", normalize_birth_date)
        mother_name = None
        if requires_mother_name:
            mother_name = self.text("mother_name", "o nome completo da sua mãe", max_length=NAME_MAX_LENGTH)
        if login is None or birth_date is None:
            return None
        return IdentityClaim(login[0], login[1], cpf, birth_date, mother_name)

    @property
    def scope(self) -> str:
        return REGISTRATION_SCOPE if self.raw("no_cpf") is True else FULL_SCOPE


def _verification_body(verified: Verified, scope: str, minutes: int) -> dict:
    beneficiary, account = verified.beneficiary, verified.beneficiary.account
    return {
        "token": verified.token,
        "expires_in_minutes": minutes,
        "first_name": beneficiary.name.split()[0],
        "email_masked": mask_email(beneficiary.email) if beneficiary.email else None,
        "has_account": account is not None and account.status == ACTIVE,
        "plan_active": beneficiary.status == ACTIVE,
        "dependents": verified.dependents,
        "scope": scope,
    }


@routes.post("/api/identity/verifications")
async def create_verification(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await VerificationForm.read(request)
    claim = form.claim(request.app[OPERATOR].identity_requires_mother_name)
    conversation_id = form.conversation_id(request)
    channel = form.channel()
    form.validate()
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        verified = await start_verified_session(
            session,
            required(claim),
            conversation_id,
            verified_session_ttl(request),
            keys=DataKeys(settings.data_hmac_secret),
            channel=channel,
            scope=form.scope,
        )
    return json_response(_verification_body(verified, form.scope, settings.verified_session_minutes), status=201)


@routes.get("/api/family")
async def family(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        members = await visible_members(session, await verified_from_headers(request, session))
    return json_response({"members": [member_brief(person) for person in members]})


def member_brief(person: Beneficiary) -> dict:
    """{name, first_name, card_number, holder, relationship}: a member of the family as the assistant
    offers it; `relationship` as stored (holder, son, daughter, spouse, dependent), so "minha filha"
    finds her."""
    return {
        "name": person.name,
        "first_name": person.name.split()[0],
        "card_number": person.card_number,
        "holder": person.holder_id is None,
        "relationship": person.relationship,
    }
