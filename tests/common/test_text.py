"""Accents, case and punctuation do not matter where people type (common/text.py)."""

from __future__ import annotations

import pytest

from backend.identity import same_name
from common.text import fold, without_accents


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Médico do Coração!", "medico do coracao"),
        ("  ORTOPEDISTA,   por favor ", "ortopedista por favor"),
        ("São Paulo/SP", "sao paulo sp"),
        ("B.O.", "b o"),
        ("", ""),
        (None, ""),
    ],
)
def test_fold(typed, folded):
    assert fold(typed) == folded


def test_without_accents_keeps_case_spacing_and_punctuation():
    assert without_accents("Lúcia  Araújo-Neto, ç") == "Lucia  Araujo-Neto, c"


def test_names_match_whatever_the_accents_case_and_spacing():
    assert same_name(" lucia  ARAUJO ", "Lúcia Araújo")
    assert not same_name("lucia araujo", "Lúcia Araújo Neto")
