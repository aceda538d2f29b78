"""The company services answered after the company user's identity (bot/actions/company_identity.py):
the menu, the company's data and plans, invoices and their slips, protocols, reports, the portal's users
and the movements' menu (the template of the file). Each handler is registered with
@company_service("<intent>") and returns an Outcome; a value a button carries (a year, an invoice, a
report) comes back in the request itself (/empresa_faturas{"ano": "2025"}), so no question is left
pending between turns."""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.actions.company_identity import company_caller, company_info, company_refusal, company_service
from bot.actions.services import payload
from bot.actions.verified import Outcome
from bot.backend import company, company_movements, company_reports
from bot.backend.common import Refusal
from bot.backend.company import Invoice

# --- what the bot says ---------------------------------------------------------------------------
MENU_TEXT = "Olá, {first_name}! O que a {company} precisa hoje?"
MENU_BUTTONS = [
    {"title": "Faturas", "payload": "/empresa_faturas"},
    {"title": "Segunda via da fatura", "payload": "/empresa_segunda_via_fatura"},
    {"title": "Incluir beneficiário", "payload": "/empresa_incluir_beneficiario"},
    {"title": "Excluir beneficiário", "payload": "/empresa_excluir_beneficiario"},
    {"title": "Relatórios", "payload": "/empresa_relatorio"},
    {"title": "Protocolos", "payload": "/empresa_protocolos"},
]
COMPANY_TEXT = (
    "{name}\nCódigo da empresa: {code}\nCNPJ: {cnpj}\nE-mail: {email}\nTelefone: {phone}\nEndereço: {address}"
)
GROUP_TEXT = "\nEmpresas do grupo: {companies}"
NOT_ON_FILE = "não cadastrado"
CHANGE_CONTACT_BUTTON = {"title": "Alterar contato", "payload": "/empresa_alterar_contato"}
PLANS_TEXT = "Planos contratados pela {company}:\n{lines}"
PLAN_LINE = "• {name} ({coverage}{copart}), desde {since}: {active} beneficiário(s) ativo(s){ans}"
PLAN_COPART = ", com coparticipação"
PLAN_ANS = ". Registro ANS {number}"
NO_PLANS_TEXT = "Não encontrei planos contratados pela empresa."
INVOICES_TEXT = "{summary}\n\nFaturas de {year}:\n{lines}"
INVOICE_LINE = "• {month}: {amount}, {status}{when}"
INVOICE_DUE = " (vence em {date})"
INVOICE_PAID = " em {date}"
SLIP_BUTTON = "2ª via {month}"
YEAR_BUTTON = "Faturas de {year}"
MAX_INVOICES = 12
ALL_PAID_TEXT = "As faturas da empresa estão todas pagas. Quer ver a lista?"
SEE_INVOICES_BUTTON = {"title": "Ver faturas", "payload": "/empresa_faturas"}
WHICH_INVOICE_TEXT = "De qual fatura você quer a segunda via?"
INVOICE_CHOICE = "{month} ({state})"
OVERDUE_WORD = "vencida"
OPEN_WORD = "em aberto"
SLIP_TEXT = (
    "{message}\n\nVencimento: {due}\nValor: {amount}\n\nLinha digitável:\n{linha}\n\nPIX copia e cola:\n{pix}\n\n"
    "PDF (o link vale {minutes} minutos): {url}\nProtocolo: {protocol}."
)
SLIP_FILENAME = "fatura-{document}.pdf"
SLIP_CAPTION = "Segunda via da fatura"
PROTOCOLS_TEXT = "Últimos protocolos da empresa:\n{lines}"
PROTOCOL_LINE = "• {number}: {kind}, {status} (aberto em {date})"
PROTOCOL_TEXT = "Protocolo {number}: {kind}, {status}. Aberto em {date}."
NO_PROTOCOLS_TEXT = "A empresa ainda não tem protocolos."
REPORT_KIND_TEXT = "Qual relatório você quer?"
REPORT_KINDS = {
    "ativos": ("active", "Beneficiários ativos"),
    "inativos": ("inactive", "Inativos"),
    "utilizacao": ("usage", "Utilização do mês passado"),
}
REPORT_FORMAT_TEXT = "Em qual formato?"
REPORT_FORMATS = {"csv": "Planilha (CSV)", "pdf": "PDF"}
REPORT_TEXT = "{message}\n{url}"
USERS_TEXT = "Usuários do portal da {company}:\n{lines}"
USER_LINE = "• {code} — {name}: {role}, {status}{access}"
NO_ACCESS = " (ainda sem primeiro acesso)"
DEACTIVATE_TITLE = "Desativar {code}"
DEACTIVATE_CONFIRM_TEXT = (
    "Desativar o acesso de {code} ao portal? A pessoa não consegue mais entrar nem falar pela empresa aqui."
)
YES_DEACTIVATE = "Sim, desativar"
KEEP = {"title": "Não, manter", "payload": "/negar"}
NEW_USER_BUTTON = {"title": "Cadastrar usuário", "payload": "/empresa_cadastrar_usuario"}
EDIT_USER_BUTTON = {"title": "Alterar usuário", "payload": "/empresa_editar_usuario"}
MOVEMENTS_TEXT = (
    "Movimentação cadastral: por aqui eu incluo, excluo, altero os dados, troco o plano, reativo ou transfiro "
    "um beneficiário de cada vez. "
    "Para vários de uma vez, baixe o modelo da planilha, preencha e me mande o arquivo aqui: "
    "eu devolvo o protocolo e as linhas com erro."
)
MOVEMENTS_BUTTONS = [
    {"title": "Incluir beneficiário", "payload": "/empresa_incluir_beneficiario"},
    {"title": "Excluir beneficiário", "payload": "/empresa_excluir_beneficiario"},
    {"title": "Alterar dados", "payload": "/empresa_alterar_beneficiario"},
    {"title": "Trocar plano", "payload": "/empresa_trocar_plano"},
    {"title": "Reativar", "payload": "/empresa_reativar_beneficiario"},
    {"title": "Transferir", "payload": "/empresa_transferir_beneficiario"},
    {"title": "Modelo da planilha", "payload": payload("empresa_movimentacao", empresa_opcao="modelo")},
    {"title": "Enviar planilha", "payload": "/empresa_enviar_planilha"},
]
TEMPLATE_TEXT = (
    "Modelo da planilha de movimentação (o link vale {minutes} minutos):\nExcel: {xlsx}\nCSV: {csv}\n"
    "Depois de preencher, toque em Enviar planilha e mande o arquivo aqui."
)


def _or(value: str | None) -> str:
    return value or NOT_ON_FILE


@company_service("empresa_identificacao")
async def menu(tracker: Tracker, values: dict[str, str]) -> Outcome:
    info = company_info(tracker)
    return Outcome(MENU_TEXT.format(first_name=info.get("first_name"), company=info.get("company_name")), MENU_BUTTONS)


@company_service("empresa_dados")
async def company_data(tracker: Tracker, values: dict[str, str]) -> Outcome:
    found = await company.company_data(company_caller(tracker))
    if isinstance(found, Refusal):
        return company_refusal(found)
    text = COMPANY_TEXT.format(
        name=found.name,
        code=found.code,
        cnpj=found.cnpj,
        email=_or(found.email),
        phone=_or(found.phone),
        address=_or(found.address),
    )
    if found.group:
        text += GROUP_TEXT.format(companies="; ".join(found.group))
    return Outcome(text, [CHANGE_CONTACT_BUTTON])


@company_service("empresa_planos")
async def plans(tracker: Tracker, values: dict[str, str]) -> Outcome:
    found = await company.plans(company_caller(tracker))
    if isinstance(found, Refusal):
        return company_refusal(found)
    if not found:
        return Outcome(NO_PLANS_TEXT)
    lines = [
        PLAN_LINE.format(
            name=p.name,
            coverage=p.coverage,
            copart=PLAN_COPART if p.coparticipation else "",
            since=p.contracted_on_text,
            active=p.active_beneficiaries,
            ans=PLAN_ANS.format(number=p.ans_product_registration) if p.ans_product_registration else "",
        )
        for p in found
    ]
    return Outcome(PLANS_TEXT.format(company=company_info(tracker).get("company_name"), lines="\n".join(lines)))


def _invoice_line(invoice: Invoice) -> str:
    when = ""
    if invoice.status == "paid" and invoice.paid_at_text:
        when = INVOICE_PAID.format(date=invoice.paid_at_text)
    elif invoice.status == "open":
        when = INVOICE_DUE.format(date=invoice.due_date_text)
    return INVOICE_LINE.format(
        month=invoice.reference_month_text, amount=invoice.amount_text, status=invoice.status_text.lower(), when=when
    )


def _slip_button(invoice: Invoice) -> dict[str, str]:
    return {
        "title": SLIP_BUTTON.format(month=invoice.reference_month_text),
        "payload": payload("empresa_segunda_via_fatura", documento=invoice.document_number),
    }


@company_service("empresa_faturas")
async def invoices(tracker: Tracker, values: dict[str, str]) -> Outcome:
    year = int(values["ano"]) if (values.get("ano") or "").isdigit() else None
    found = await company.invoices(company_caller(tracker), year)
    if isinstance(found, Refusal):
        return company_refusal(found)
    lines = [_invoice_line(invoice) for invoice in found.invoices[:MAX_INVOICES]]
    buttons = [_slip_button(invoice) for invoice in found.invoices if invoice.unpaid][:2]
    buttons += [
        {"title": YEAR_BUTTON.format(year=y), "payload": payload("empresa_faturas", ano=str(y))}
        for y in found.years
        if y != found.year
    ][:2]
    return Outcome(INVOICES_TEXT.format(summary=found.summary, year=found.year, lines="\n".join(lines)), buttons)


@company_service("empresa_segunda_via_fatura")
async def invoice_slip(tracker: Tracker, values: dict[str, str]) -> Outcome:
    caller = company_caller(tracker)
    document = values.get("documento")
    if not document:
        found = await company.invoices(caller)
        if isinstance(found, Refusal):
            return company_refusal(found)
        unpaid = [invoice for invoice in found.invoices if invoice.unpaid]
        if not unpaid:
            return Outcome(ALL_PAID_TEXT, [SEE_INVOICES_BUTTON])
        if len(unpaid) > 1:
            buttons = [
                {
                    "title": INVOICE_CHOICE.format(
                        month=i.reference_month_text, state=OVERDUE_WORD if i.status == "overdue" else OPEN_WORD
                    ),
                    "payload": payload("empresa_segunda_via_fatura", documento=i.document_number),
                }
                for i in unpaid[:3]
            ]
            return Outcome(WHICH_INVOICE_TEXT, buttons)
        document = unpaid[0].document_number
    slip = await company.invoice_slip(caller, document)
    if isinstance(slip, Refusal):
        return company_refusal(slip)
    text = SLIP_TEXT.format(
        message=slip.message,
        due=slip.due_date_text,
        amount=slip.amount_text,
        linha=slip.linha_digitavel,
        pix=slip.pix_copia_e_cola,
        minutes=slip.expires_in_minutes,
        url=slip.pdf_url,
        protocol=slip.protocol,
    )
    document_message = {
        "url": slip.pdf_url,
        "filename": SLIP_FILENAME.format(document=slip.document_number),
        "caption": SLIP_CAPTION,
    }
    return Outcome(text, document=document_message)


@company_service("empresa_protocolos")
async def protocols(tracker: Tracker, values: dict[str, str]) -> Outcome:
    caller = company_caller(tracker)
    if values.get("protocolo"):
        one = await company.protocol(caller, "".join(ch for ch in values["protocolo"] if ch.isdigit()))
        if isinstance(one, Refusal):
            return company_refusal(one)
        return Outcome(
            PROTOCOL_TEXT.format(
                number=one.protocol, kind=one.kind_label, status=one.status_label, date=one.created_on_text
            )
        )
    found = await company.protocols(caller)
    if isinstance(found, Refusal):
        return company_refusal(found)
    if not found:
        return Outcome(NO_PROTOCOLS_TEXT)
    lines = [
        PROTOCOL_LINE.format(number=p.protocol, kind=p.kind_label, status=p.status_label, date=p.created_on_text)
        for p in found
    ]
    return Outcome(PROTOCOLS_TEXT.format(lines="\n".join(lines)))


@company_service("empresa_relatorio")
async def report(tracker: Tracker, values: dict[str, str]) -> Outcome:
    """Two buttons' answers in the request: "ativos", then "ativos.csv"."""
    kind, _, fmt = (values.get("empresa_opcao") or "").partition(".")
    if kind not in REPORT_KINDS:
        buttons = [
            {"title": title, "payload": payload("empresa_relatorio", empresa_opcao=key)}
            for key, (_, title) in REPORT_KINDS.items()
        ]
        return Outcome(REPORT_KIND_TEXT, buttons)
    if fmt not in REPORT_FORMATS:
        buttons = [
            {"title": title, "payload": payload("empresa_relatorio", empresa_opcao=f"{kind}.{key}")}
            for key, title in REPORT_FORMATS.items()
        ]
        return Outcome(REPORT_FORMAT_TEXT, buttons)
    issued = await company_reports.report(company_caller(tracker), REPORT_KINDS[kind][0], fmt)
    if isinstance(issued, Refusal):
        return company_refusal(issued)
    return Outcome(REPORT_TEXT.format(message=issued.message, url=issued.url))


@company_service("empresa_usuarios")
async def portal_users(tracker: Tracker, values: dict[str, str]) -> Outcome:
    """The list (admins only: the backend refuses a plain user), deactivation in two taps
    ("desativar:RH500102", then "desativar!:RH500102"); adding and editing a user are forms of their own
    (bot/actions/company_users.py), started by the list's buttons."""
    caller = company_caller(tracker)
    option, _, code = (values.get("empresa_opcao") or "").partition(":")
    if option == "desativar" and code:
        buttons = [
            {"title": YES_DEACTIVATE, "payload": payload("empresa_usuarios", empresa_opcao=f"desativar!:{code}")},
            KEEP,
        ]
        return Outcome(DEACTIVATE_CONFIRM_TEXT.format(code=code), buttons)
    if option == "desativar!" and code:
        done = await company_reports.deactivate_user(caller, code)
        return company_refusal(done) if isinstance(done, Refusal) else Outcome(done.message)
    found = await company_reports.portal_users(caller)
    if isinstance(found, Refusal):
        return company_refusal(found)
    me = company_info(tracker).get("user_code")
    lines = [
        USER_LINE.format(
            code=u.user_code,
            name=u.name,
            role=u.role_label or u.role,
            status=u.status_label or u.status,
            access="" if u.has_portal_access or u.status != "active" else NO_ACCESS,
        )
        for u in found
    ]
    buttons = [
        {
            "title": DEACTIVATE_TITLE.format(code=u.user_code),
            "payload": payload("empresa_usuarios", empresa_opcao=f"desativar:{u.user_code}"),
        }
        for u in found
        if u.status == "active" and u.user_code != me
    ][:3]
    buttons += [NEW_USER_BUTTON, EDIT_USER_BUTTON]
    return Outcome(
        USERS_TEXT.format(company=company_info(tracker).get("company_name"), lines="\n".join(lines)), buttons
    )


@company_service("empresa_movimentacao")
async def movements(tracker: Tracker, values: dict[str, str]) -> Outcome:
    if values.get("empresa_opcao") != "modelo":
        return Outcome(MOVEMENTS_TEXT, MOVEMENTS_BUTTONS)
    links = []
    for fmt in ("xlsx", "csv"):
        found = await company_movements.template(company_caller(tracker), fmt)
        if isinstance(found, Refusal):
            return company_refusal(found)
        links.append(found)
    xlsx, csv = links
    text = TEMPLATE_TEXT.format(minutes=xlsx.expires_in_minutes, xlsx=xlsx.url, csv=csv.url)
    return Outcome(text, [{"title": "Enviar planilha", "payload": "/empresa_enviar_planilha"}])
