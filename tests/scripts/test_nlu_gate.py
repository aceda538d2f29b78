"""The NLU gate fails on a weak held-out score and names what is weak."""

from __future__ import annotations

from scripts.nlu_gate import verdict

FIXED = {"cpf": 1.0, "carteirinha": 1.0, "email": 1.0, "protocolo": 1.0, "data": 1.0}


def result(macro_f1, **entities):
    return {
        "macro_f1": macro_f1,
        "accuracy": macro_f1,
        "examples": 481,
        "worst": [("negar", 0.70, 12), ("cancelar", 0.80, 12)],
        "pairs": [(("negar", "cancelar"), 3)],
        "entities": {**FIXED, "cidade": 0.5, **entities},
    }


def test_a_good_model_passes():
    assert verdict(result(0.97)) == []  # a weak DIET-only entity (cidade) is not gated


def test_a_low_intent_score_fails_naming_the_worst_intents_and_confusions():
    [problem] = verdict(result(0.93))
    assert "0.930 < 0.96" in problem and "negar 0.700" in problem and "negar → cancelar (3)" in problem


def test_the_floor_is_the_issues_target_for_the_held_out_set():
    assert verdict(result(0.96)) == []
    assert verdict(result(0.955)) != []


def test_a_fixed_form_entity_below_its_floor_fails():
    [problem] = verdict(result(0.97, data=0.96))
    assert problem.startswith("entity data F1 0.960")


def test_a_held_out_set_without_a_fixed_form_entity_fails():
    entities = dict(FIXED)
    del entities["protocolo"]
    r = result(0.97)
    r["entities"] = entities
    assert any("no example of protocolo" in p for p in verdict(r))
