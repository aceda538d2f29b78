"""`make model` decides between nothing, a fine-tune and a full training from what changed."""

from __future__ import annotations

import pytest

from scripts import train_model
from scripts.train_model import MAX_FINETUNES, decide

NOW = {"structure": "s1", "nlu": "n1"}


@pytest.mark.parametrize(
    ("before", "full", "expected"),
    [
        ({}, False, "full"),  # no previous model
        ({"structure": "s1", "nlu": "n1"}, False, "none"),  # nothing changed
        ({"structure": "s1", "nlu": "n0"}, False, "finetune"),  # only NLU examples changed
        ({"structure": "s0", "nlu": "n1"}, False, "full"),  # config, domain, stories or rules changed
        ({"structure": "s0", "nlu": "n0"}, False, "full"),
        ({"structure": "s1", "nlu": "n0"}, True, "full"),  # --full
        ({"structure": "s1", "nlu": "n0", "finetunes": MAX_FINETUNES}, False, "full"),  # drift bounded
    ],
)
def test_decide(before, full, expected):
    assert decide(NOW, before, full) == expected


def test_nlu_and_dialogue_files_are_told_apart_by_content(tmp_path, monkeypatch):
    data = tmp_path / "bot" / "data"
    (data / "nlu").mkdir(parents=True)
    (data / "nlu" / "a.yml").write_text('version: "3.1"\nnlu:\n- intent: oi\n  examples: |\n    - oi\n')
    (data / "regras.yml").write_text('version: "3.1"\nrules:\n- rule: r\n  steps:\n  - intent: oi\n')
    (data / "historias.yml").write_text('version: "3.1"\nstories: []\n')
    monkeypatch.setattr(train_model, "DATA", data)
    nlu, dialogue = train_model.training_files()
    assert [p.name for p in nlu] == ["a.yml"]
    assert sorted(p.name for p in dialogue) == ["historias.yml", "regras.yml"]


def test_an_nlu_edit_changes_only_the_nlu_fingerprint(tmp_path, monkeypatch):
    root = tmp_path
    data = root / "bot" / "data"
    data.mkdir(parents=True)
    (root / "config.yml").write_text("pipeline: []\n")
    (root / "domain.yml").write_text("intents: [oi]\n")
    (data / "nlu.yml").write_text("nlu:\n- intent: oi\n  examples: |\n    - oi\n")
    (data / "rules.yml").write_text("rules: []\n")
    for component in train_model.TRAINED_COMPONENTS:
        (root / component).write_text("# a trained component\n")
    monkeypatch.setattr(train_model, "ROOT", root)
    monkeypatch.setattr(train_model, "DATA", data)
    before = train_model.fingerprints()
    (data / "nlu.yml").write_text("nlu:\n- intent: oi\n  examples: |\n    - oi\n    - ola\n")
    after = train_model.fingerprints()
    assert after["structure"] == before["structure"] and after["nlu"] != before["nlu"]
    (root / "domain.yml").write_text("intents: [oi, tchau]\n")
    assert train_model.fingerprints()["structure"] != after["structure"]


def test_a_trained_components_code_changes_the_structure_fingerprint(tmp_path, monkeypatch):
    """Its code is part of the model: a change to it trains from scratch, not a fine-tune."""
    root = tmp_path
    (root / "bot" / "data").mkdir(parents=True)
    (root / "config.yml").write_text("pipeline: []\n")
    (root / "domain.yml").write_text("intents: [oi]\n")
    component = root / train_model.TRAINED_COMPONENTS[0]
    component.write_text("C = 1.0\n")
    monkeypatch.setattr(train_model, "ROOT", root)
    monkeypatch.setattr(train_model, "DATA", root / "bot" / "data")
    before = train_model.fingerprints()
    component.write_text("C = 0.5\n")
    assert train_model.fingerprints()["structure"] != before["structure"]
