"""The virtual card (carteirinha digital): its data and a PNG image that channels can send.

Validity rule: the card of an active beneficiary is valid until 31 December of the next year (the
yearly reissue of the physical card), and never after the plan ends — a cancelled plan has no card.
The QR code (segno) encodes the card number only, nothing personal beyond what is printed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from backend.models import Beneficiary, Plan
from backend.operator_profile import OperatorProfile
from common.labels import card_number_text, card_relationship_label, coverage_segments, date_text

ACCOMMODATION_LABELS = {"apartamento": "Apartamento", "enfermaria": "Enfermaria"}

# Image geometry: an ID-1 card (85.6 x 54 mm) at 300 dpi.
WIDTH, HEIGHT = 1012, 638
BAND_HEIGHT = 150
QR_MODULE_PX = 10  # size of one QR module in pixels
QR_BORDER_MODULES = 2  # quiet zone, in modules
QR_RIGHT, QR_TOP = WIDTH - 40, BAND_HEIGHT + 40  # where the QR code (with its quiet zone) goes
PRIMARY = (0, 94, 120)
ACCENT = (0, 150, 136)
INK = (33, 37, 41)
MUTED = (96, 104, 112)
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"), Path("/usr/share/fonts/TTF"))


@dataclass(frozen=True)
class CardData:
    name: str
    card_number: str
    card_number_formatted: str
    holder: bool
    relationship: str
    plan_name: str
    accommodation: str
    segments: tuple[str, ...]
    product_ans_registration: str
    operator_name: str
    operator_short_name: str
    operator_ans_registration: str
    valid_until: date

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "card_number": self.card_number,
            "card_number_formatted": self.card_number_formatted,
            "holder": self.holder,
            "relationship": self.relationship,
            "plan": self.plan_name,
            "accommodation": self.accommodation,
            "segments": list(self.segments),
            "product_ans_registration": self.product_ans_registration,
            "operator": self.operator_name,
            "operator_ans_registration": self.operator_ans_registration,
            "valid_until": self.valid_until.isoformat(),
            "valid_until_text": date_text(self.valid_until),
        }

    def text(self) -> str:
        """The card as a short WhatsApp-friendly text (pt-BR)."""
        return "\n".join(
            [
                f"*{self.operator_short_name}* — carteirinha digital",
                f"Nome: {self.name}",
                f"Carteirinha: {self.card_number_formatted}",
                f"Plano: {self.plan_name} (ANS nº {self.product_ans_registration})",
                f"Cobertura: {', '.join(self.segments)}",
                f"Acomodação: {self.accommodation}",
                f"{self.relationship} · válida até {date_text(self.valid_until)}",
                f"Operadora: {self.operator_name} — ANS nº {self.operator_ans_registration}",
            ]
        )


def valid_until(today: date) -> date:
    return date(today.year + 1, 12, 31)


def card_data(beneficiary: Beneficiary, plan: Plan, operator: OperatorProfile, today: date) -> CardData:
    return CardData(
        name=beneficiary.name,
        card_number=beneficiary.card_number,
        card_number_formatted=card_number_text(beneficiary.card_number),
        holder=beneficiary.holder_id is None,
        relationship=card_relationship_label(beneficiary.relationship, beneficiary.holder_id is None),
        plan_name=plan.name,
        accommodation=ACCOMMODATION_LABELS.get(plan.accommodation, plan.accommodation.capitalize()),
        segments=coverage_segments(plan.outpatient, plan.hospital, plan.obstetrics),
        product_ans_registration=plan.ans_product_registration,
        operator_name=operator.name,
        operator_short_name=operator.short_name,
        operator_ans_registration=operator.ans_registration,
        valid_until=valid_until(today),
    )


def qr_code(card_number: str) -> segno.QRCode:
    """The card's QR code: the card number, error correction M, smallest version that fits."""
    return segno.make(card_number, error="m", micro=False)


@cache
def _font(size: int, bold: bool = False) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for directory in FONT_DIRS:
        if (directory / name).is_file():
            return ImageFont.truetype(str(directory / name), size)
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, max_width: int, bold: bool = False):
    """The largest font (from `size` down) with which `text` fits `max_width`."""
    while size > 14:
        font = _font(size, bold)
        if draw.textlength(text, font=font) <= max_width:
            return font
        size -= 2
    return _font(size, bold)


def _qr_origin(qr: segno.QRCode) -> tuple[int, int]:
    """Top-left corner of the QR code's quiet zone in the image."""
    side = int(qr.symbol_size(scale=QR_MODULE_PX, border=QR_BORDER_MODULES)[0])
    return QR_RIGHT - side, QR_TOP


def qr_box(card_number: str) -> tuple[int, int, int, int]:
    """Where the QR code's modules (quiet zone excluded) are in the image: x, y, module px, modules."""
    qr = qr_code(card_number)
    x, y = _qr_origin(qr)
    offset = QR_BORDER_MODULES * QR_MODULE_PX
    return x + offset, y + offset, QR_MODULE_PX, int(qr.symbol_size(border=0)[0])


def render_png(card: CardData) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, BAND_HEIGHT), fill=PRIMARY)
    draw.rectangle((0, BAND_HEIGHT, WIDTH, BAND_HEIGHT + 8), fill=ACCENT)
    draw.text(
        (40, 28), card.operator_short_name, font=_fit(draw, card.operator_short_name, 52, 620, True), fill="white"
    )
    draw.text((40, 98), f"ANS nº {card.operator_ans_registration}", font=_font(26), fill="white")
    draw.text((WIDTH - 40, 40), "CARTEIRINHA", font=_font(28, True), fill="white", anchor="ra")
    draw.text((WIDTH - 40, 78), "DIGITAL", font=_font(28, True), fill="white", anchor="ra")

    qr = qr_code(card.card_number)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=QR_MODULE_PX, border=QR_BORDER_MODULES)
    buffer.seek(0)
    qr_image = Image.open(buffer).convert("RGB")
    qr_x, qr_y = _qr_origin(qr)
    image.paste(qr_image, (qr_x, qr_y))
    draw.text(
        (qr_x + qr_image.width // 2, qr_y + qr_image.height + 6),
        "Nº da carteirinha",
        font=_font(18),
        fill=MUTED,
        anchor="ma",
    )
    left_width = qr_x - 40 - 24

    y = BAND_HEIGHT + 36
    draw.text((40, y), card.name.upper(), font=_fit(draw, card.name.upper(), 38, left_width, True), fill=INK)
    y += 58
    draw.text((40, y), card.card_number_formatted, font=_font(46, True), fill=PRIMARY)
    y += 70
    rows = [
        ("Plano", f"{card.plan_name}"),
        ("Acomodação", card.accommodation),
        ("Cobertura", " + ".join(card.segments)),
        ("Produto", f"ANS nº {card.product_ans_registration}"),
    ]
    for label, value in rows:
        draw.text((40, y), label.upper(), font=_font(18, True), fill=MUTED)
        draw.text((40, y + 22), value, font=_fit(draw, value, 26, left_width), fill=INK)
        y += 56
    footer_y = HEIGHT - 56
    draw.line((40, footer_y - 14, WIDTH - 40, footer_y - 14), fill=(220, 224, 228), width=2)
    draw.text((40, footer_y), card.relationship, font=_font(24, True), fill=INK)
    draw.text(
        (WIDTH - 40, footer_y), f"Válida até {date_text(card.valid_until)}", font=_font(24, True), fill=INK, anchor="ra"
    )
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()
