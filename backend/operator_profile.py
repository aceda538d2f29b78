"""The operator profile: identity, phones, call-centre hours and password policy (YAML files)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from backend.passwords import PasswordPolicy

PROFILES_DIR = Path(__file__).resolve().parent / "operator_profiles"


@dataclass(frozen=True)
class OpeningHours:
    weekdays: tuple[str, ...]
    opens: str
    closes: str
    text: str


@dataclass(frozen=True)
class BillingProfile:
    """Where fees are paid (bank slip and PIX) and the late-payment charges (`billing:` in the YAML)."""

    bank_code: str  # FEBRABAN code, e.g. "001" (Banco do Brasil)
    bank_name: str
    agency: str  # agência / conta do beneficiário, as printed on the slip
    account: str
    convenio: str  # 7-digit BB convênio (nosso número = convênio + 10-digit sequence)
    carteira: str  # 2 digits
    beneficiary_name: str  # the operator as payee (cedente)
    beneficiary_cnpj: str
    pix_key: str
    pix_merchant_name: str  # up to 25 characters, no accents
    pix_merchant_city: str  # up to 15 characters, no accents
    fine_percent: Decimal  # once, after the due date
    monthly_interest_percent: Decimal  # simple, pro rata die


def _billing(data: dict, path: Path) -> BillingProfile:
    values: dict[str, Any] = {key: str(value) for key, value in data.items()}  # texts, then two Decimals
    for key, pattern in (
        ("bank_code", r"\d{3}"),
        ("convenio", r"\d{7}"),
        ("carteira", r"\d{2}"),
        ("beneficiary_cnpj", r"\d{14}"),
    ):
        if not re.fullmatch(pattern, values.get(key, "")):
            raise ValueError(f"{path}: billing.{key} must match {pattern}")
    if len(values["pix_merchant_name"]) > 25 or len(values["pix_merchant_city"]) > 15:
        raise ValueError(f"{path}: billing.pix_merchant_name (25) or pix_merchant_city (15) too long")
    values["fine_percent"] = Decimal(values["fine_percent"])
    values["monthly_interest_percent"] = Decimal(values["monthly_interest_percent"])
    return BillingProfile(**values)


@dataclass(frozen=True)
class OperatorProfile:
    name: str
    short_name: str
    ans_registration: str
    city: str
    state: str
    phones: dict[str, str]
    opening_hours: OpeningHours
    password_policy: PasswordPolicy
    identity_requires_mother_name: bool  # CASSE asks the mother's full name to confirm identity
    billing: BillingProfile | None = None  # fees: bank slip and PIX

    def public(self) -> dict:
        """What GET /api/operator shows."""
        return {
            "name": self.name,
            "short_name": self.short_name,
            "ans_registration": self.ans_registration,
            "phones": dict(self.phones),
            "opening_hours": self.opening_hours.text,
            "identity_requires_mother_name": self.identity_requires_mother_name,
            "password_policy": {
                "name": self.password_policy.name,
                "description": self.password_policy.description,
            },
        }


@cache
def load_profile(name: str) -> OperatorProfile:
    if not re.fullmatch(r"[a-z0-9_-]+", name):
        raise ValueError(f"invalid operator profile name: {name!r}")
    path = PROFILES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown operator profile: {name!r} (no {path})")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not re.fullmatch(r"\d{6}", str(data["ans_registration"])):
        raise ValueError(f"{path}: ans_registration must have 6 digits")
    hours = data["opening_hours"]
    return OperatorProfile(
        name=data["name"],
        short_name=data["short_name"],
        ans_registration=str(data["ans_registration"]),
        city=data["city"],
        state=data["state"],
        phones={key: str(value) for key, value in data["phones"].items()},
        opening_hours=OpeningHours(
            weekdays=tuple(hours["weekdays"]), opens=hours["opens"], closes=hours["closes"], text=hours["text"]
        ),
        password_policy=PasswordPolicy(**data["password_policy"]),
        identity_requires_mother_name=bool(data["identity_requires_mother_name"]),
        billing=_billing(data["billing"], path) if "billing" in data else None,
    )
