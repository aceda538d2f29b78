"""A fee's bank slip on a given day: charges, barcode, linha digitável, PIX code and PDF data.

Deterministic for (fee, issue day): the endpoint that answers the assistant and the signed PDF
link (opened minutes later) compute the same slip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from backend.billing import febraban, pix
from backend.billing.charges import Charge, charge_on
from backend.billing.slip_pdf import SlipData
from backend.models import Beneficiary, Fee
from backend.operator_profile import BillingProfile, OperatorProfile


@dataclass(frozen=True)
class Slip:
    charge: Charge
    our_number: str
    barcode: str
    linha_digitavel_digits: str
    linha_digitavel: str
    pix_copia_e_cola: str


def _billing(operator: OperatorProfile) -> BillingProfile:
    """The profile's bank data; the endpoints answer 503 before calling here when it has none."""
    if operator.billing is None:
        raise ValueError(f"operator profile {operator.short_name!r} has no billing section")
    return operator.billing


def build_slip(operator: OperatorProfile, fee: Fee, issued_on: date) -> Slip:
    billing = _billing(operator)
    charge = charge_on(
        fee.amount,
        fee.due_date,
        issued_on,
        fine_percent=billing.fine_percent,
        monthly_interest_percent=billing.monthly_interest_percent,
    )
    code = febraban.barcode(
        billing.bank_code,
        charge.due_date,
        charge.amount,
        febraban.bb_free_field(billing.convenio, fee.id, billing.carteira),
    )
    digits = febraban.linha_digitavel(code)
    copia_e_cola = pix.brcode(
        key=billing.pix_key,
        merchant_name=billing.pix_merchant_name,
        merchant_city=billing.pix_merchant_city,
        amount=charge.amount,
        transaction_id=f"MENS{fee.document_number}{issued_on:%Y%m%d}",
    )
    return Slip(
        charge=charge,
        our_number=f"{billing.convenio}{fee.id:010d}",
        barcode=code,
        linha_digitavel_digits=digits,
        linha_digitavel=febraban.format_linha(digits),
        pix_copia_e_cola=copia_e_cola,
    )


def slip_data(
    operator: OperatorProfile, holder: Beneficiary, fee: Fee, slip: Slip, issued_on: date, protocol: str
) -> SlipData:
    billing = _billing(operator)
    charge = slip.charge
    return SlipData(
        operator_name=operator.name,
        bank_name=billing.bank_name,
        bank_code=billing.bank_code,
        payee_name=billing.beneficiary_name,
        payee_cnpj=billing.beneficiary_cnpj,
        agency_account=f"{billing.agency} / {billing.account}",
        payer_name=holder.name,
        payer_card=holder.card_number,
        document_number=fee.document_number,
        our_number=slip.our_number,
        reference_month=fee.reference_month,
        original_due_date=charge.original_due_date,
        due_date=charge.due_date,
        original_amount=charge.original_amount,
        fine=charge.fine,
        interest=charge.interest,
        amount=charge.amount,
        fine_percent=billing.fine_percent,
        monthly_interest_percent=billing.monthly_interest_percent,
        protocol=protocol,
        linha_digitavel=slip.linha_digitavel,
        barcode=slip.barcode,
        pix_copia_e_cola=slip.pix_copia_e_cola,
        issued_on=issued_on,
    )
