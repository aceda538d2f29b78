"""Database model of the plan system: plans, beneficiaries, accounts, fees, requests, protocols."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    orm,
    text,
)

from backend.clock import utcnow

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
if TYPE_CHECKING:
    # SQLAlchemy 1.4 ships no types (its mypy plugin does not work with current mypy): what mypy
    # sees of the declarative base. Columns are Any; the keyword constructor is the declarative one.
    class Base:
        metadata: MetaData
        __table__: Any

        def __init__(self, **kwargs: Any) -> None: ...
else:
    Base = orm.declarative_base(metadata=metadata)

ACTIVE = "active"
PENDING = "pending"


class Plan(Base):
    __tablename__ = "plans"
    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False, unique=True)
    ans_product_registration = Column(String(20), nullable=False)
    outpatient = Column(Boolean, nullable=False, default=True)
    hospital = Column(Boolean, nullable=False, default=True)
    obstetrics = Column(Boolean, nullable=False, default=False)
    accommodation = Column(String(20), nullable=False)  # apartamento | enfermaria
    coparticipation = Column(Boolean, nullable=False, default=False)


class Beneficiary(Base):
    __tablename__ = "beneficiaries"
    id = Column(Integer, primary_key=True)
    name = Column(String(160), nullable=False)
    card_number = Column(String(12), nullable=False, unique=True)
    cpf = Column(String(11), unique=True)
    birth_date = Column(Date, nullable=False)
    mother_name = Column(String(160), nullable=False)
    email = Column(String(254), index=True)
    phone = Column(String(32))
    holder_id = Column(Integer, ForeignKey("beneficiaries.id"))
    relationship = Column(String(20), nullable=False)  # holder | son | daughter | spouse (common.labels)
    plan_id = Column(Integer, ForeignKey("plans.id"), nullable=False)
    status = Column(String(20), nullable=False, default=ACTIVE)  # active | cancelled
    cancelled_at = Column(Date)
    company_id = Column(Integer, ForeignKey("companies.id"), index=True)  # 0012: a company plan's member

    plan = orm.relationship(Plan, lazy="joined")
    account = orm.relationship("Account", uselist=False, lazy="joined")


class Account(Base):
    """App/portal account of a beneficiary."""

    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), nullable=False, unique=True)
    password_hash = Column(String(100))  # NULL while pending: no usable password yet
    must_change_password = Column(Boolean, nullable=False, default=False)
    status = Column(String(20), nullable=False, default=ACTIVE)  # active | pending (registered, not activated)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class Agent(Base):
    """Call-centre agent who takes over conversations handed off by the assistant."""

    __tablename__ = "agents"
    id = Column(Integer, primary_key=True)
    username = Column(String(60), nullable=False, unique=True)
    name = Column(String(160), nullable=False)
    password_hash = Column(String(100), nullable=False)
    disabled_at = Column(DateTime)  # 0007: `python -m backend.agents disable` (no login, sessions ended)


class ApiSession(Base):
    """A bearer token, stored only as its SHA-256; belongs to an account or an agent."""

    __tablename__ = "api_sessions"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    account_id = Column(Integer, ForeignKey("accounts.id"))
    agent_id = Column(Integer, ForeignKey("agents.id"))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)


class Fee(Base):
    """Monthly fee (mensalidade) charged to a holder."""

    __tablename__ = "fees"
    __table_args__ = (UniqueConstraint("beneficiary_id", "reference_month", "type"),)
    id = Column(Integer, primary_key=True)
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), nullable=False, index=True)
    document_number = Column(String(20), nullable=False, unique=True)
    reference_month = Column(Date, nullable=False)  # first day of the month
    due_date = Column(Date, nullable=False)
    type = Column(String(60), nullable=False)
    amount = Column(Numeric(10, 2), nullable=False)
    paid_at = Column(Date)
    status = Column(String(20), nullable=False)  # open | overdue | paid


class Protocol(Base):
    __tablename__ = "protocols"
    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    kind = Column(String(40), nullable=False)
    status = Column(String(20), nullable=False)
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), index=True)
    channel = Column(String(20), nullable=False)
    conversation_id = Column(String(128))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    details = Column(JSON, nullable=False, default=dict)
    company_id = Column(Integer, ForeignKey("companies.id"), index=True)  # 0012: a company's request


class ProtocolSequence(Base):
    """Last protocol sequence value used on a (local) day."""

    __tablename__ = "protocol_sequences"
    day = Column(Date, primary_key=True)
    last_value = Column(Integer, nullable=False)


class Reimbursement(Base):
    __tablename__ = "reimbursements"
    id = Column(Integer, primary_key=True)
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), nullable=False, index=True)
    protocol_number = Column(String(20), ForeignKey("protocols.number"), nullable=False, unique=True)
    service_type = Column(String(60), nullable=False)
    provider_name = Column(String(160), nullable=False)
    service_date = Column(Date, nullable=False)
    amount_requested = Column(Numeric(10, 2), nullable=False)
    amount_paid = Column(Numeric(10, 2))
    status = Column(String(20), nullable=False)  # received | under_analysis | pending | paid | denied
    requested_at = Column(DateTime, nullable=False, default=utcnow)
    requested_by_id = Column(Integer, ForeignKey("beneficiaries.id"))  # the holder, when for a dependent
    provider_document = Column(String(14))  # CPF (11) or CNPJ (14, alphanumeric allowed), normalised
    description = Column(Text)
    answer_due_on = Column(Date)  # deadline for the operator's answer

    history = orm.relationship(
        "ReimbursementStatusChange", order_by="ReimbursementStatusChange.changed_at", lazy="selectin"
    )


class ReimbursementStatusChange(Base):
    __tablename__ = "reimbursement_status_history"
    id = Column(Integer, primary_key=True)
    reimbursement_id = Column(Integer, ForeignKey("reimbursements.id"), nullable=False, index=True)
    status = Column(String(20), nullable=False)
    note = Column(Text)
    changed_at = Column(DateTime, nullable=False, default=utcnow)


class WaitingPeriod(Base):
    """Carência: the coverage group may be used from `ends_on` on."""

    __tablename__ = "waiting_periods"
    __table_args__ = (UniqueConstraint("beneficiary_id", "coverage_group"),)
    id = Column(Integer, primary_key=True)
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), nullable=False)
    coverage_group = Column(String(80), nullable=False)
    ends_on = Column(Date, nullable=False)


class CardRequest(Base):
    """Reissue of a physical card."""

    __tablename__ = "card_requests"
    id = Column(Integer, primary_key=True)
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), nullable=False, index=True)
    reason = Column(String(20), nullable=False)  # one of common.card_reasons.CARD_REISSUE_REASONS
    police_report = Column(String(40))
    status = Column(String(20), nullable=False)  # requested | in_production | shipped | delivered
    requested_at = Column(DateTime, nullable=False, default=utcnow)
    note = Column(Text)
    protocol_number = Column(String(20), ForeignKey("protocols.number"), nullable=False, unique=True)


class Provider(Base):
    """Accredited provider (rede credenciada)."""

    __tablename__ = "providers"
    __table_args__ = (UniqueConstraint("name", "specialty", "city"),)
    id = Column(Integer, primary_key=True)
    name = Column(String(160), nullable=False)
    type = Column(String(20), nullable=False)  # clínica | hospital | laboratório | consultório
    specialty = Column(String(80), nullable=False, index=True)
    city = Column(String(80), nullable=False, index=True)
    state = Column(String(2), nullable=False)
    address = Column(String(240), nullable=False)
    phone = Column(String(32), nullable=False)
    map_url = Column(String(400), nullable=False)


class IdentityAttempt(Base):
    """One identity verification; `key` is a SHA-256 of the normalised login, never the login."""

    __tablename__ = "identity_attempts"
    id = Column(Integer, primary_key=True)
    key = Column(String(64), nullable=False, index=True)
    succeeded = Column(Boolean, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    conversation_id = Column(String(128), index=True)


class IdentityVerification(Base):
    """A successful identity check of a conversation, redeemable by that conversation until
    `expires_at`; the bot keeps only the token, stored here as its SHA-256."""

    __tablename__ = "identity_verifications"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), nullable=False)
    conversation_id = Column(String(128), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    # 0006: bound to the channel too (the same sender id on another channel is another person),
    # and what it may serve: "full", or "registration" for a check without CPF
    channel = Column(String(32), nullable=False, server_default="")
    scope = Column(String(16), nullable=False, server_default="full")


class HandoffTicket(Base):
    """A conversation handed over to a human agent."""

    __tablename__ = "handoff_tickets"
    __table_args__ = (
        Index("ix_handoff_tickets_conversation_id_status", "conversation_id", "status"),
        # at most one ticket waiting or in progress per conversation (a repeated request gets it back)
        Index(
            "uq_handoff_tickets_active_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
    )
    id = Column(Integer, primary_key=True)
    protocol_number = Column(String(20), ForeignKey("protocols.number"), nullable=False, unique=True)
    channel = Column(String(20), nullable=False)
    conversation_id = Column(String(128), nullable=False)
    reason = Column(Text, nullable=False)
    status = Column(String(20), nullable=False, default="open")  # open | in_progress | closed
    agent_id = Column(Integer, ForeignKey("agents.id"))
    resolution = Column(Text)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    closed_at = Column(DateTime)
    # migration 0005: who asked, what the bot saw (PII masked), when an agent took it, and whether
    # it was opened out of hours / with nobody online (the team calls back).
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), index=True)
    transcript = Column(JSON, nullable=False, default=list)  # [{"from": "user"|"bot", "text", "at"}]
    claimed_at = Column(DateTime)
    callback = Column(Boolean, nullable=False, default=False)


class PasswordHistory(Base):
    """bcrypt hashes of the passwords an account chose, newest kept (see backend.account_passwords)."""

    __tablename__ = "password_history"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    password_hash = Column(String(100), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class AccountLink(Base):
    """A single-use link e-mailed or sent in the chat (activation, password change, e-mail change);
    only the SHA-256 of its token is stored. `email` is the address the link will set, if any."""

    __tablename__ = "account_links"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    purpose = Column(String(20), nullable=False)  # activation | password_change | email_change
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), nullable=False, index=True)
    email = Column(String(254))
    protocol_number = Column(String(20), ForeignKey("protocols.number"))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime)


class ServiceUsage(Base):
    """A service the beneficiary used (extrato de atendimentos), with its coparticipation."""

    __tablename__ = "service_usages"
    id = Column(Integer, primary_key=True)
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), nullable=False, index=True)
    service_date = Column(Date, nullable=False)
    provider_name = Column(String(160), nullable=False)
    procedure = Column(String(160), nullable=False)
    amount = Column(Numeric(10, 2), nullable=False)
    coparticipation = Column(Numeric(10, 2), nullable=False, default=0)


class ReimbursementDocument(Base):
    """A receipt, invoice or report uploaded for a reimbursement; stored on disk, attached to the
    request when it is submitted (until then it belongs to the uploading conversation)."""

    __tablename__ = "reimbursement_documents"
    id = Column(Integer, primary_key=True)
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), nullable=False, index=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    reimbursement_id = Column(Integer, ForeignKey("reimbursements.id"), index=True)
    kind = Column(String(20), nullable=False)  # receipt | invoice | report | other (backend.reimbursements)
    filename = Column(String(200), nullable=False)
    content_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    storage_path = Column(String(400), nullable=False)
    uploaded_at = Column(DateTime, nullable=False, default=utcnow)


class FileBlob(Base):
    """The bytes of a file a user sent (backend.uploads), kept in the database so that every backend
    process reads what any of them received. Its owner (an inbound file, then the reimbursement
    document it becomes) keeps the id in `storage_path`; it is deleted with its owner."""

    __tablename__ = "file_blobs"
    id = Column(String(32), primary_key=True)  # random (secrets.token_hex)
    sha256 = Column(String(64), nullable=False)
    size = Column(Integer, nullable=False)
    content_type = Column(String(100), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    content = orm.deferred(Column(LargeBinary, nullable=False))  # bytea on PostgreSQL, BLOB on SQLite


class HandoffMessage(Base):
    """A message of a handoff: the user's (read from the Rasa tracker while the bot is paused), the
    agent's (sent to the user's channel through Rasa) or a note of what happened (system)."""

    __tablename__ = "handoff_messages"
    __table_args__ = (UniqueConstraint("ticket_id", "external_id"),)
    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("handoff_tickets.id"), nullable=False, index=True)
    sender = Column(String(10), nullable=False)  # user | agent | system
    text = Column(Text, nullable=False)
    agent_id = Column(Integer, ForeignKey("agents.id"))
    external_id = Column(String(64))  # user messages: the tracker event's timestamp (no duplicates)
    delivered = Column(Boolean, nullable=False, default=True)  # agent messages: Rasa took it
    created_at = Column(DateTime, nullable=False, default=utcnow)


class AgentState(Base):
    """Per agent: when the console or the agent API was last used (who is online) and the failed
    logins that lock the agent's login for a while."""

    __tablename__ = "agent_states"
    agent_id = Column(Integer, ForeignKey("agents.id"), primary_key=True)
    last_seen_at = Column(DateTime)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime)


class RateLimit(Base):
    """A rate-limit counter (backend.rate_limits): `hits` in the window that began at
    `window_start`. `bucket` is an HMAC-SHA256 (DATA_HMAC_SECRET) of the rule and its subject,
    never the CPF, card, e-mail or address itself."""

    __tablename__ = "rate_limits"
    bucket = Column(String(64), primary_key=True)
    hits = Column(Integer, nullable=False)
    window_start = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False, index=True)


class EmailChange(Base):
    """A requested change of the e-mail on file (backend.email_change): it happens only once the
    new address is confirmed and, when there was an address on file, after `effective_at`
    unless that address cancelled it (the cancel link's SHA-256 is kept here)."""

    __tablename__ = "email_changes"
    id = Column(Integer, primary_key=True)
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), nullable=False, index=True)
    new_email = Column(String(254), nullable=False)
    protocol_number = Column(String(20), ForeignKey("protocols.number"), nullable=False, unique=True)
    cancel_token_hash = Column(String(64), unique=True)
    requested_at = Column(DateTime, nullable=False, default=utcnow)
    effective_at = Column(DateTime, nullable=False, index=True)
    confirmed_at = Column(DateTime)
    cancelled_at = Column(DateTime)
    applied_at = Column(DateTime)


class InboundFile(Base):
    """A file a user sent through a channel (POST /api/inbound-files), stored on the backend's disk
    and bound to the conversation it came from (channel + sender id, like an identity
    verification). An action attaches it by its opaque id (a reimbursement document takes over its
    bytes and the row goes); one never attached expires (backend.inbound_files.INBOUND_FILE_TTL,
    deleted by backend.retention)."""

    __tablename__ = "inbound_files"
    __table_args__ = (Index("ix_inbound_files_channel_conversation", "channel", "conversation_id"),)
    id = Column(String(32), primary_key=True)  # random (secrets.token_urlsafe), shown to the channel
    channel = Column(String(32), nullable=False)
    conversation_id = Column(String(128), nullable=False)
    filename = Column(String(200), nullable=False)
    content_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    storage_path = Column(String(400), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class AnalyticsEvent(Base):
    """A conversation event as Rasa published it to the event broker, stored once however often it
    is delivered (backend.analytics_consumer): `event_key` is the SHA-256 of the event as published.
    Only what the analytics need is kept — no text, no entity or slot value (backend.analytics):
    `name` is the action, slot or form (the intent, for a user message), `data` the confidences
    and the names of the entities. Deleted by backend.retention."""

    __tablename__ = "analytics_events"
    __table_args__ = (Index("ix_analytics_events_sender_timestamp", "sender_id", "timestamp"),)
    id = Column(Integer, primary_key=True)
    event_key = Column(String(64), nullable=False, unique=True)
    sender_id = Column(String(255), nullable=False)  # the conversation id, as the tracker store keeps it
    type = Column(String(32), nullable=False)  # Rasa's event type: user, bot, action, slot, session_started...
    name = Column(String(255))
    channel = Column(String(64))  # user messages: the input channel
    timestamp = Column(Float, nullable=False)  # Rasa's (seconds since the epoch): the order of a conversation
    at = Column(DateTime, nullable=False, index=True)  # the same instant, naive UTC
    data = Column(JSON, nullable=False, default=dict)
    received_at = Column(DateTime, nullable=False, default=utcnow)


class AnalyticsTurn(Base):
    """A user message and what the assistant made of it, derived from analytics_events: the intent
    and its confidence, whether the turn fell back (nlu_fallback, or a fallback action ran before
    the next message) or handed the conversation to a person (action_contato_atendente)."""

    __tablename__ = "analytics_turns"
    __table_args__ = (Index("ix_analytics_turns_sender_timestamp", "sender_id", "timestamp"),)
    id = Column(Integer, primary_key=True)
    event_key = Column(String(64), nullable=False, unique=True)  # the user event's
    sender_id = Column(String(255), nullable=False)
    channel = Column(String(64))
    intent = Column(String(255))
    confidence = Column(Float)
    fallback = Column(Boolean, nullable=False, default=False)
    handoff = Column(Boolean, nullable=False, default=False)
    timestamp = Column(Float, nullable=False)
    at = Column(DateTime, nullable=False, index=True)


# --- 0012: the employer's side (backend.company) ---------------------------------------------------


class Company(Base):
    """A contracting company (empresa contratante). `cnpj` bare and upper-case (14 characters, the
    alphanumeric CNPJ too); `parent_id`: the company whose group it belongs to."""

    __tablename__ = "companies"
    id = Column(Integer, primary_key=True)
    code = Column(String(10), nullable=False, unique=True)
    cnpj = Column(String(14), nullable=False, unique=True)
    name = Column(String(160), nullable=False)
    parent_id = Column(Integer, ForeignKey("companies.id"))
    email = Column(String(254))
    phone = Column(String(32))
    address = Column(String(240))
    status = Column(String(20), nullable=False, default=ACTIVE)


class CompanyUser(Base):
    """An HR user of a company (portal and chat). `password_hash` NULL: no portal access yet (the
    first-access flow sets it); failed logins lock it like an account (backend.auth)."""

    __tablename__ = "company_users"
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, ForeignKey("companies.id"), nullable=False, index=True)
    user_code = Column(String(20), nullable=False, unique=True)
    name = Column(String(160), nullable=False)
    email = Column(String(254), nullable=False)
    role = Column(String(10), nullable=False)  # admin | user
    password_hash = Column(String(100))
    status = Column(String(20), nullable=False, default=ACTIVE)  # active | inactive
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    company = orm.relationship(Company, lazy="joined")


class CompanyPlan(Base):
    """A plan a company contracted."""

    __tablename__ = "company_plans"
    __table_args__ = (UniqueConstraint("company_id", "plan_id"),)
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, ForeignKey("companies.id"), nullable=False)
    plan_id = Column(Integer, ForeignKey("plans.id"), nullable=False)
    contracted_on = Column(Date, nullable=False)

    plan = orm.relationship(Plan, lazy="joined")


class CompanyInvoice(Base):
    """A company's monthly invoice (fatura)."""

    __tablename__ = "company_invoices"
    __table_args__ = (UniqueConstraint("company_id", "reference_month"),)
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, ForeignKey("companies.id"), nullable=False, index=True)
    document_number = Column(String(20), nullable=False, unique=True)
    reference_month = Column(Date, nullable=False)  # first day of the month
    due_date = Column(Date, nullable=False)
    amount = Column(Numeric(12, 2), nullable=False)
    paid_at = Column(Date)
    status = Column(String(20), nullable=False)  # open | overdue | paid


class CompanySession(Base):
    """A company user's bearer token (POST /api/company/auth/login), stored as its SHA-256."""

    __tablename__ = "company_sessions"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    company_user_id = Column(Integer, ForeignKey("company_users.id"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)


class CompanyLoginCode(Base):
    """A one-time code e-mailed to a company user to verify a conversation; `code_hash` is an HMAC
    (DATA_HMAC_SECRET) of the code, never the code."""

    __tablename__ = "company_login_codes"
    __table_args__ = (Index("ix_company_login_codes_channel_conversation", "channel", "conversation_id"),)
    id = Column(Integer, primary_key=True)
    company_user_id = Column(Integer, ForeignKey("company_users.id"), nullable=False, index=True)
    code_hash = Column(String(64), nullable=False)
    channel = Column(String(32), nullable=False)
    conversation_id = Column(String(128), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime)


class CompanyVerification(Base):
    """A conversation verified as a company user (the one-time code), redeemable by that
    conversation (channel + conversation id) until `expires_at` (pushed on each use)."""

    __tablename__ = "company_verifications"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    company_user_id = Column(Integer, ForeignKey("company_users.id"), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    conversation_id = Column(String(128), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)


class CompanyLink(Base):
    """A single-use link e-mailed to a company user (first access, forgot password), as AccountLink."""

    __tablename__ = "company_links"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    purpose = Column(String(20), nullable=False)  # first_access | password_reset
    company_user_id = Column(Integer, ForeignKey("company_users.id"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime)


# --- 0013: the company's beneficiary movements (backend.company.movements) -------------------------


class CompanyMovementBatch(Base):
    """A file of movements a company user sent (backend.company.movement_batch): its protocol, how
    many lines were applied (by kind) and refused, and each refused line's number, field and reason
    (no personal data of the line)."""

    __tablename__ = "company_movement_batches"
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, ForeignKey("companies.id"), nullable=False, index=True)
    protocol_id = Column(Integer, ForeignKey("protocols.id"), nullable=False, unique=True)
    filename = Column(String(200))
    file_format = Column(String(10), nullable=False)  # csv | xlsx
    total_lines = Column(Integer, nullable=False)
    applied_lines = Column(Integer, nullable=False)
    refused_lines = Column(Integer, nullable=False)
    counts = Column(JSON, nullable=False, default=dict)  # {movement kind: lines applied}
    errors = Column(JSON, nullable=False, default=list)  # [{line, field, column, code, message}]
    status = Column(String(20), nullable=False)  # processed
    created_by = Column(Integer, ForeignKey("company_users.id"), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class CompanyMovement(Base):
    """One movement of a company's beneficiary (inclusion, exclusion, data change, plan change,
    reactivation, transfer), applied when it was made; `data` keeps what it applied (the personal
    data included). One by one it has a protocol of its own; from a file, the batch's."""

    __tablename__ = "company_movements"
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, ForeignKey("companies.id"), nullable=False, index=True)
    kind = Column(String(30), nullable=False)  # inclusion | exclusion | data_change | plan_change | ...
    beneficiary_id = Column(Integer, ForeignKey("beneficiaries.id"), nullable=False, index=True)
    data = Column(JSON, nullable=False, default=dict)
    status = Column(String(20), nullable=False)  # applied
    protocol_id = Column(Integer, ForeignKey("protocols.id"), nullable=False, index=True)
    batch_id = Column(Integer, ForeignKey("company_movement_batches.id"), index=True)
    created_by = Column(Integer, ForeignKey("company_users.id"), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
