"""The pt-BR words the product shows for stored values, and how it writes dates (pure, no I/O).

Stored and sent values are English (`holder`, `open`, …); what a person reads comes from here,
so the backend, its documents and the assistant word them the same way.
"""

from __future__ import annotations

from datetime import date

MONTH_NAMES = (
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
)

# --- who someone is on the contract --------------------------------------------------------------

HOLDER, DEPENDENT = "holder", "dependent"
ROLE_LABELS = {HOLDER: "titular", DEPENDENT: "dependente"}
# Beneficiary.relationship (stored) -> how the console and the chat say it
RELATIONSHIP_LABELS = {HOLDER: "titular", "son": "filho", "daughter": "filha", "spouse": "cônjuge"}


def role(is_holder: bool) -> str:
    """'holder' or 'dependent' (what the API sends; ROLE_LABELS words it)."""
    return HOLDER if is_holder else DEPENDENT


def relationship_label(relationship: str, is_holder: bool) -> str:
    """'titular', 'filho'…; an unknown value is said by the role."""
    return RELATIONSHIP_LABELS.get(relationship) or ROLE_LABELS[role(is_holder)]


def card_number_text(card_number: str) -> str:
    """'100200300401' -> '1002 0030 0401', as printed on the card."""
    return " ".join(card_number[i : i + 4] for i in range(0, len(card_number), 4))


def card_relationship_label(relationship: str, is_holder: bool) -> str:
    """As printed on the card: 'Titular', 'Dependente (filho)', or 'Dependente'."""
    if is_holder:
        return "Titular"
    kin = RELATIONSHIP_LABELS.get(relationship)
    return f"Dependente ({kin})" if kin and relationship != HOLDER else "Dependente"


# --- the plan -------------------------------------------------------------------------------------

PLAN_STATUS_LABELS = {"active": "ativo", "cancelled": "cancelado"}


def segments(outpatient: bool, hospital: bool, obstetrics: bool) -> list[str]:
    """The ANS segments the plan covers, one word each: ['ambulatorial', 'hospitalar', 'obstetrícia']."""
    found = []
    if outpatient:
        found.append("ambulatorial")
    if hospital:
        found.append("hospitalar")
    if obstetrics:
        found.append("obstetrícia")
    return found


def coverage_segments(outpatient: bool, hospital: bool, obstetrics: bool) -> tuple[str, ...]:
    """The ANS segmentation as printed on the card: ('Ambulatorial', 'Hospitalar com obstetrícia')."""
    found = []
    if outpatient:
        found.append("Ambulatorial")
    if hospital:
        found.append("Hospitalar com obstetrícia" if obstetrics else "Hospitalar sem obstetrícia")
    elif obstetrics:
        found.append("Obstetrícia")
    return tuple(found)


def segments_text(outpatient: bool, hospital: bool, obstetrics: bool) -> str:
    """As people read it: 'ambulatorial + hospitalar com obstetrícia'."""
    return " + ".join(segment.lower() for segment in coverage_segments(outpatient, hospital, obstetrics))


# --- fees -----------------------------------------------------------------------------------------

FEE_STATUS_LABELS = {"open": "em aberto", "overdue": "vencida", "paid": "paga"}


# --- dates ----------------------------------------------------------------------------------------


def date_text(day: date) -> str:
    """'05/03/2025'."""
    return f"{day:%d/%m/%Y}"


def month_text(day: date) -> str:
    """The month of `day` as '03/2025'."""
    return f"{day:%m/%Y}"


def month_name(month: int, year: int | None = None) -> str:
    """'março', or 'março de 2025' with the year."""
    name = MONTH_NAMES[month - 1]
    return f"{name} de {year}" if year is not None else name
