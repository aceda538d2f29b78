"""PIX *copia e cola*: a static EMV BR Code (BCB "Manual de Padrões para Iniciação do Pix").

00 Payload Format Indicator "01"
26 Merchant Account Information: 00 GUI "br.gov.bcb.pix", 01 the key
52 Merchant Category Code "0000"
53 Transaction Currency "986" (real)
54 Transaction Amount, e.g. "462.35"
58 Country Code "BR"
59 Merchant Name (up to 25 characters, no accents)
60 Merchant City (up to 15 characters, no accents)
62 Additional Data Field: 05 txid (up to 25 letters and digits)
63 CRC16 (CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF) over everything before it, including "6304",
   as 4 uppercase hex digits
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

GUI = "br.gov.bcb.pix"
MERCHANT_NAME_MAX, MERCHANT_CITY_MAX, TXID_MAX = 25, 15, 25


class InvalidBrCode(ValueError):
    pass


def crc16_ccitt_false(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise InvalidBrCode(f"field {tag} longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def ascii_text(text: str, max_length: int) -> str:
    """Without accents and other non-ASCII characters, cut to `max_length`."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^A-Za-z0-9 .,/-]", "", plain)
    return re.sub(r"\s+", " ", plain).strip()[:max_length].rstrip()


def txid(text: str) -> str:
    value = re.sub(r"[^A-Za-z0-9]", "", text)[:TXID_MAX]
    return value or "***"


def brcode(
    *, key: str, merchant_name: str, merchant_city: str, amount: Decimal | None = None, transaction_id: str = "***"
) -> str:
    """The *copia e cola* text (also the content of the QR code)."""
    payload = (
        tlv("00", "01")
        + tlv("26", tlv("00", GUI) + tlv("01", key))
        + tlv("52", "0000")
        + tlv("53", "986")
        + (tlv("54", f"{Decimal(amount):.2f}") if amount is not None else "")
        + tlv("58", "BR")
        + tlv("59", ascii_text(merchant_name, MERCHANT_NAME_MAX))
        + tlv("60", ascii_text(merchant_city, MERCHANT_CITY_MAX))
        + tlv("62", tlv("05", txid(transaction_id)))
        + "6304"
    )
    return payload + f"{crc16_ccitt_false(payload.encode('ascii')):04X}"


def parse(payload: str) -> dict[str, str]:
    """Top-level fields of a BR Code ({tag: value}); the CRC is checked."""
    if len(payload) < 8 or not payload[-8:-4] == "6304":
        raise InvalidBrCode("no CRC field at the end")
    expected = f"{crc16_ccitt_false(payload[:-4].encode('utf-8')):04X}"
    if payload[-4:].upper() != expected:
        raise InvalidBrCode(f"CRC {payload[-4:]} does not match {expected}")
    return parse_fields(payload)


def parse_fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    position = 0
    while position < len(text):
        tag, length = text[position : position + 2], text[position + 2 : position + 4]
        if not (tag.isdigit() and length.isdigit()):
            raise InvalidBrCode(f"malformed field at {position}")
        value = text[position + 4 : position + 4 + int(length)]
        if len(value) != int(length):
            raise InvalidBrCode(f"field {tag} is cut short")
        fields[tag] = value
        position += 4 + int(length)
    return fields
