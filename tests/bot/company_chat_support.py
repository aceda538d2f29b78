"""A fake of the employer's side of the backend (bot.backend.company, company_reports, company_movements) for
the tests of bot/actions/company*.py: answers from the demo company of the contract (Construtora Horizonte,
RH500101 Fernanda Rocha, admin) and records what it was asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracker_support import CHANNEL

from bot.backend.common import Refusal
from bot.backend.company import (
    CompanyData,
    CompanyProtocol,
    CompanyVerification,
    ContractedPlan,
    Done,
    Invoice,
    Invoices,
    InvoiceSlip,
    Sent,
)
from bot.backend.company_movements import BatchDone, LineError, MovementDone, MovementOptions, Option, Template
from bot.backend.company_reports import PortalUser, Report, UserChanged

CNPJ = "33.445.566/0001-86"
CNPJ_DIGITS = "33445566000186"
COMPANY_TOKEN = "ctok-1"
SENT_MESSAGE = (
    "Se o código de usuário e o CNPJ estiverem certos, enviei um código de 6 números para o e-mail "
    "cadastrado. Ele vale por 10 minutos."
)
COMPANY_INFO = {
    "first_name": "Fernanda",
    "user_code": "RH500101",
    "is_admin": True,
    "company_code": "500100",
    "company_name": "Construtora Horizonte Ltda",
    "cnpj": CNPJ,
    "channel": CHANNEL,
}
OPTIONS = MovementOptions(
    plans=("Odonto Essencial", "Odonto Plus"),
    start_dates=(
        Option("2026-09-01", "01/09/2026 (retroativa)", True),
        Option("2026-10-01", "01/10/2026 (retroativa)", True),
        Option("2026-11-01", "01/11/2026 (retroativa)", True),
        Option("2026-12-01", "01/12/2026", False),
    ),
    retroactive_warning="Atenção: a data retroativa implica a cobrança retroativa nas faturas da empresa.",
    exclusion_reasons=(Option("dismissal", "desligamento ou demissão"), Option("death", "óbito")),
    kinships=(
        Option("holder", "titular"),
        Option("spouse", "cônjuge"),
        Option("son", "filho"),
        Option("daughter", "filha"),
    ),
    next_start=Option("2026-12-01", "01/12/2026"),
    group_companies=(Option("500200", "Horizonte Incorporações Ltda"),),
)


def refusal(status: int, code: str, message: str, **data: Any) -> Refusal:
    return Refusal(code=code, message=message, status=status, data=data)


def company_verified(**slots: Any) -> dict[str, Any]:
    """The slots of a conversation verified as RH500101 on the test channel."""
    return {"empresa_token": COMPANY_TOKEN, "empresa_info": dict(COMPANY_INFO), **slots}


def invoice(month: str, status: str, number: str) -> Invoice:
    status_text = {"open": "Em aberto", "overdue": "Vencida", "paid": "Paga"}[status]
    return Invoice(
        document_number=number,
        reference_month_text=month,
        due_date_text=f"10/{month}",
        amount_text="R$ 3.200,00",
        status=status,
        status_text=status_text,
        paid_at_text="08/" + month if status == "paid" else None,
    )


@dataclass
class FakeCompanyBackend:
    codes: list[Sent | Refusal] = field(default_factory=list)  # answers to request_code, in order
    verification: CompanyVerification | Refusal = field(
        default_factory=lambda: CompanyVerification(
            token=COMPANY_TOKEN,
            first_name="Fernanda",
            user_code="RH500101",
            is_admin=True,
            company_code="500100",
            company_name="Construtora Horizonte Ltda",
            cnpj=CNPJ,
        )
    )
    access: Sent | Refusal = field(default_factory=lambda: Sent("Se os dados estiverem certos, enviei um link."))
    invoice_list: Invoices | Refusal = field(
        default_factory=lambda: Invoices(
            year=2026,
            years=(2026, 2025, 2024),
            invoices=(
                invoice("11/2026", "open", "F500100202611"),
                invoice("10/2026", "overdue", "F500100202610"),
                invoice("09/2026", "paid", "F500100202609"),
            ),
            summary="Há 1 fatura vencida e 1 em aberto.",
        )
    )
    movement: MovementDone | Refusal = field(
        default_factory=lambda: MovementDone(
            protocol="2026" + "5" * 16,
            message="Bruno Almeida incluído no Odonto Essencial a partir de 01/12/2026. Carteirinha 5001 0000 0301.",
        )
    )
    batch: BatchDone | Refusal = field(
        default_factory=lambda: BatchDone(
            protocol="2026" + "8" * 16,
            message="Arquivo processado: 1 inclusão; 1 linha recusada. Protocolo 20268888888888888888.",
            total_lines=2,
            applied_lines=1,
            refused_lines=1,
            errors=(LineError(3, "cpf", "CPF inválido."),),
        )
    )
    user_change: UserChanged | Refusal = field(
        default_factory=lambda: UserChanged("Usuário RH500103 (Carla Mendes Souza) incluído como usuário.")
    )
    users_list: tuple[PortalUser, ...] | Refusal = field(
        default_factory=lambda: (
            PortalUser("RH500101", "Fernanda Rocha", "admin", "active", True, "administrador", "ativo"),
            PortalUser("RH500102", "Diego Martins", "user", "active", False, "usuário", "ativo"),
        )
    )
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def asked(self, name: str) -> list[Any]:
        return [arguments for called, arguments in self.calls if called == name]

    async def request_code(self, caller, user_code: str, cnpj: str) -> Sent | Refusal:
        self.calls.append(("request_code", (user_code, cnpj)))
        return self.codes.pop(0) if self.codes else Sent(SENT_MESSAGE, 10)

    async def verify_code(self, caller, user_code: str, cnpj: str, code: str) -> CompanyVerification | Refusal:
        self.calls.append(("verify_code", (user_code, cnpj, code)))
        return self.verification

    async def first_access(self, caller, cnpj: str, email: str, *, user_code=None, company_code=None):
        self.calls.append(
            ("first_access", {"cnpj": cnpj, "email": email, "user_code": user_code, "company_code": company_code})
        )
        return self.access

    async def password_reset(self, caller, user_code: str, cnpj: str):
        self.calls.append(("password_reset", (user_code, cnpj)))
        return self.access

    async def user_code_reminder(self, caller, company_code: str, cnpj: str, email: str):
        self.calls.append(("user_code_reminder", (company_code, cnpj, email)))
        return self.access

    async def company_data(self, caller):
        self.calls.append(("company_data", caller))
        return CompanyData(
            code="500100",
            name="Construtora Horizonte Ltda",
            cnpj=CNPJ,
            email="contato@horizonte.exemplo.com.br",
            phone=None,
            address="Av. Brasil, 100",
            group=("Horizonte Incorporações Ltda (33.445.566/0002-67)",),
        )

    async def plans(self, caller):
        return (ContractedPlan("Odonto Essencial", "123456789", "odontológico", False, "01/01/2024", 2),)

    async def users(self, caller):
        return ()

    async def change_contact(self, caller, changes):
        self.calls.append(("change_contact", changes))
        return Done(protocol="2026" + "7" * 16, message="Pedido de alteração de e-mail registrado.")

    async def invoices(self, caller, year=None):
        self.calls.append(("invoices", year))
        return self.invoice_list

    async def invoice_slip(self, caller, document_number: str):
        self.calls.append(("invoice_slip", document_number))
        return InvoiceSlip(
            protocol="2026" + "3" * 16,
            document_number=document_number,
            message="Fatura de 10/2026 atualizada para hoje, com multa e juros.",
            linha_digitavel="34191.79001 01043.510047 91020.150008 1 99990000320000",
            pix_copia_e_cola="00020126580014br.gov.bcb.pix",
            pdf_url="http://backend/documentos/abc",
            due_date_text="30/11/2026",
            amount_text="R$ 3.280,00",
            expires_in_minutes=30,
        )

    async def protocols(self, caller):
        return (CompanyProtocol("2026" + "9" * 16, "inclusão de beneficiário", "aberto", "29/11/2026"),)

    async def protocol(self, caller, number):
        return refusal(404, "protocol_not_found", "Não encontrei esse protocolo.")

    async def report(self, caller, kind: str, fmt: str):
        self.calls.append(("report", (kind, fmt)))
        return Report(
            kind, fmt, 2, "ativos.csv", "Relatório de beneficiários ativos em CSV.", "http://b/documentos/r", 30
        )

    async def portal_users(self, caller):
        self.calls.append(("portal_users", None))
        return self.users_list

    async def add_user(self, caller, name: str, email: str, role: str):
        self.calls.append(("add_user", {"name": name, "email": email, "role": role}))
        return self.user_change

    async def edit_user(self, caller, user_code: str, changes: dict):
        self.calls.append(("edit_user", (user_code, changes)))
        return self.user_change

    async def deactivate_user(self, caller, user_code: str):
        self.calls.append(("deactivate_user", user_code))
        return UserChanged(f"Acesso de {user_code} desativado.")

    async def movement_options(self, caller):
        self.calls.append(("movement_options", None))
        return OPTIONS

    async def make_movement(self, caller, kind: str, fields: dict):
        self.calls.append(("make_movement", (kind, fields)))
        return self.movement

    async def send_batch(self, caller, file_id: str):
        self.calls.append(("send_batch", file_id))
        return self.batch

    async def template(self, caller, fmt: str):
        return Template(fmt, f"modelo.{fmt}", f"http://b/documentos/modelo-{fmt}", 30)


def plain_user(**slots: Any) -> dict[str, Any]:
    """The slots of a conversation verified as RH500102 Diego (a plain user, not an admin)."""
    info = {**COMPANY_INFO, "first_name": "Diego", "user_code": "RH500102", "is_admin": False}
    return {"empresa_token": COMPANY_TOKEN, "empresa_info": info, **slots}


def register_asks(*actions) -> None:
    """The custom ask actions of the forms under test, for form_turns (it runs them as Rasa would)."""
    import form_turns

    form_turns.ASK_ACTIONS.update({action.name(): action for action in actions})


def install(monkeypatch) -> FakeCompanyBackend:
    """The employer's side of the backend faked (with the fixture fake_backend, any other call fails)."""
    from bot.backend import company, company_movements, company_reports

    fake = FakeCompanyBackend()
    for module in (company, company_reports, company_movements):
        for name in dir(fake):
            if not name.startswith("_") and name != "asked" and callable(getattr(fake, name)) and hasattr(module, name):
                monkeypatch.setattr(module, name, getattr(fake, name))
    return fake
