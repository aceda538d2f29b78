"""`make augment` (scripts/augment_nlu.py): the generated phone-noise file is deterministic, capped per
intent, keeps every entity annotation valid, duplicates neither a written nor a held-out example, and
the committed file is what the written examples generate today."""

from __future__ import annotations

import collections
import random

import pytest
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from common.text import fold
from scripts import augment_nlu as aug


@pytest.fixture(scope="module")
def written():
    return aug.written_examples()


@pytest.fixture(scope="module")
def variants(written):
    return aug.generate(written)


def test_generation_is_deterministic(written, variants):
    assert aug.generate(written) == variants
    assert aug.render_file(aug.generate(written)) == aug.render_file(variants)
    example = "quero o boleto de [março](mes), você me manda por favor?"
    assert aug.variant("segunda_via_boleto", example) == aug.variant("segunda_via_boleto", example)


def test_a_new_seed_gives_other_noise(written):
    assert aug.generate(written[:400], seed=7) != aug.generate(written[:400])


def test_the_committed_file_is_a_fresh_generation(variants):
    assert aug.OUTPUT.read_text(encoding="utf-8") == aug.render_file(variants), (
        "bot/data/nlu/generated/ruido.yml is stale: run `make augment`"
    )
    assert aug.main(["--check"]) == 0


def test_the_file_says_it_is_generated():
    assert aug.OUTPUT.read_text(encoding="utf-8").startswith(aug.HEADER + "\n")


def test_each_intent_gets_at_most_its_share_of_variants(written, variants):
    per_intent = collections.Counter(intent for intent, _ in written)
    generated = collections.Counter(v.intent for v in variants)
    assert generated, "no variant generated"
    for intent, count in generated.items():
        assert count <= int(aug.SHARE * per_intent[intent]), intent
    assert len(variants) <= aug.SHARE * len(written)


def _kind(char: str | None) -> str:
    if char is None:
        return "edge"
    return "space" if char.isspace() else "word" if char.isalnum() else "punct"


def _entity_context(example: str) -> list[tuple[str, str, str, str]]:
    """(entity, text, kind of the character before, kind of the one after) of each annotation."""
    segments = aug.parse(example)
    rendered = [s.text for s in segments]
    out = []
    for i, segment in enumerate(segments):
        if segment.entity is not None:
            before = rendered[i - 1][-1] if i > 0 and rendered[i - 1] else None
            after = rendered[i + 1][0] if i + 1 < len(rendered) and rendered[i + 1] else None
            out.append((segment.entity, segment.text, _kind(before), _kind(after)))
    return out


def test_entity_annotations_stay_valid(variants):
    annotated = [v for v in variants if "](" in v.source]
    assert annotated, "no variant of an annotated example"
    for v in annotated:
        source, noisy = _entity_context(v.source), _entity_context(v.text)
        assert [e[0] for e in noisy] == [e[0] for e in source], v
        for (entity, text, *around), (_, new_text, *new_around) in zip(source, noisy, strict=True):
            if entity in aug.FROZEN_ENTITIES:
                assert new_text == text, v  # cpf, carteirinha, email, protocolo, data, valor, ano: untouched
            else:
                assert new_text in (text, aug.without_accents(text)), v  # only the accents may go
            assert new_around == around, v  # no word runs into an entity


def test_rasa_reads_the_annotations_where_they_were_written(variants):
    data = RasaYAMLReader().reads(aug.OUTPUT.read_text(encoding="utf-8"))
    assert len(data.intent_examples) == len(variants)
    by_text = {aug.plain_text(v.text): v for v in variants}
    for message in data.intent_examples:
        text = message.get("text")
        expected = [(s.entity, s.text) for s in aug.parse(by_text[text].text) if s.entity]
        found = [(e["entity"], text[e["start"] : e["end"]]) for e in message.get("entities") or []]
        assert found == expected, text


def test_no_variant_duplicates_a_written_or_a_held_out_example(written, variants):
    written_folded = {fold(aug.plain_text(e)) for _, e in written}
    examples = aug.held_out_examples()
    assert "Clínica Bem Estar" in examples  # written apart, typed inside the reimbursement form
    held_out = aug._HeldOut(examples)
    seen = set()
    for v in variants:
        folded = fold(aug.plain_text(v.text))
        assert folded not in written_folded, v
        assert folded not in seen, v
        assert not held_out.close_to(v.text), v
        seen.add(folded)


def test_a_variant_that_is_a_held_out_example_or_close_to_one_is_dropped(monkeypatch):
    noise = {"protocolo": "protocoo", "meu protocolo": "meu protocolo!", "quero o protocolo": "quero o protocol"}
    monkeypatch.setattr(aug, "variant", lambda intent, example, seed=aug.SEED: noise[example])
    written = [("consultar_protocolo", example) for example in noise]
    kept = aug.generate(written, held_out=["protocoo", "quero ver o protocolo"], share=1.0)
    # "protocoo" is a held-out example; "meu protocolo!" folds to a written one; "quero o protocol" is kept
    assert [v.text for v in kept] == ["quero o protocol"]


def test_the_noise_is_what_phones_do():
    rng = random.Random(1)  # noqa: S311 - noise, not secrecy
    segments = aug.parse("você está com o [cardiologista](especialidade) em [São Paulo](cidade)?")
    assert aug.render(aug.strip_accents(segments)).startswith("voce esta com o [cardiologista]")
    assert "[Sao Paulo](cidade)" in aug.render(aug.strip_accents(segments))
    assert aug.render(aug.abbreviate(aug.parse("você também"), rng)) in ("vc também", "você tb")
    assert aug.render(aug.run_together(aug.parse("quero ver"), rng)) == "querover"
    frozen = aug.parse("meu cpf é [945.807.302-24](cpf), nasci em [12 de março de 1985](data)")
    assert "[945.807.302-24](cpf)" in aug.render(aug.strip_accents(frozen))
    assert "[12 de março de 1985](data)" in aug.render(aug.strip_accents(frozen))
    for key, near in aug.NEIGHBOURS.items():
        assert key not in near and near, key
    assert set(aug.NEIGHBOURS["a"]) == {"q", "w", "s", "z"}
