"""NLU gate of `make test`: the trained model on the held-out set (tests/nlu/test.yml, never trained on)
must keep the intent macro-F1 and the F1 of each fixed-form entity at their floors.

    python -m scripts.nlu_gate [--model models/assistente.tar.gz]

Fails naming the worst intents and the most frequent confusions, so whoever changed the training
data sees what broke. It also lists, without failing, the wrong intents predicted with a confidence
above OVERCONFIDENT (0.90): the errors the fallback threshold cannot catch. The full benchmark
(with cross-validation) is `make bench`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.nlu import OUT_DIR, OVERCONFIDENT, TARGET_HELD_OUT_F1, rasa_test_nlu, summarize
from common.patterns import FIXED_FORM_ENTITIES
from scripts.stack import ROOT

MIN_INTENT_MACRO_F1 = TARGET_HELD_OUT_F1  # the target for the held-out set
MIN_FIXED_FORM_ENTITY_F1 = 0.98
HELD_OUT = "tests/nlu/test.yml"


def verdict(result: dict) -> list[str]:
    """The reasons the gate fails (empty when it passes)."""
    problems = []
    macro = result["macro_f1"]
    if macro is None or macro < MIN_INTENT_MACRO_F1:
        worst = ", ".join(f"{name} {f1:.3f} ({support} examples)" for name, f1, support in result["worst"])
        confusions = ", ".join(f"{a} → {b} ({n})" for (a, b), n in result["pairs"]) or "none"
        problems.append(
            f"intent macro-F1 {macro if macro is None else f'{macro:.3f}'} < {MIN_INTENT_MACRO_F1}; "
            f"worst intents: {worst}; confusions (true → predicted): {confusions}"
        )
    for name in sorted(FIXED_FORM_ENTITIES):
        f1 = result["entities"].get(name)
        if f1 is not None and f1 < MIN_FIXED_FORM_ENTITY_F1:
            problems.append(f"entity {name} F1 {f1:.3f} < {MIN_FIXED_FORM_ENTITY_F1}")
    missing = sorted(set(FIXED_FORM_ENTITIES) - set(result["entities"]))
    if missing:
        problems.append(f"the held-out set has no example of {', '.join(missing)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.nlu_gate", description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistente.tar.gz")
    args = parser.parse_args(argv)
    out = OUT_DIR / "gate"
    rasa_test_nlu(out, "--nlu", HELD_OUT, "--model", str(args.model))
    result = summarize(out)
    entities = ", ".join(f"{n} {f:.3f}" for n, f in sorted(result["entities"].items()))
    print(
        f"held-out ({result['examples']} examples): intent macro-F1 {result['macro_f1']:.3f} "
        f"(floor {MIN_INTENT_MACRO_F1}); entities: {entities} (fixed-form floor {MIN_FIXED_FORM_ENTITY_F1})"
    )
    overconfident = result.get("overconfident", [])
    print(
        f"wrong intents predicted with confidence > {OVERCONFIDENT}: {len(overconfident)}"
        + "".join(
            f"\n  {text!r}: {true} → {predicted} ({confidence:.2f})"
            for true, predicted, confidence, text in overconfident
        )
    )
    problems = verdict(result)
    for problem in problems:
        print(f"NLU gate: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
