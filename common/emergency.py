"""Signs of a medical emergency in what a person typed, recognised without the classifier.

A lexicon of symptoms and situations, written as people type them on a phone: without accents,
with typos (long words tolerate one wrong, missing or extra letter through the `regex` library's
fuzzy matching, the same library Rasa already depends on), and in the first or third person
("estou com dor no peito", "meu pai desmaiou"). It runs beside the intent classifier, so an
emergency is recognised in every state of the conversation even when DIET is confident about
something else.

What it must never do is fire on an ordinary request: a symptom named while asking about a
reimbursement, a fee or coverage ("o plano cobre cirurgia de infarto?") is not an emergency,
unless the person also says it is happening now; thoughts of suicide always are.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from common.text import fold

EMERGENCY_INTENT = "emergencia"  # the intent the rules answer in every state

CARDIAC = "cardiac"
BREATHING = "breathing"
STROKE = "stroke"
UNCONSCIOUS = "unconscious"
BLEEDING = "bleeding"
POISONING = "poisoning"
SUICIDE = "suicide"
ALLERGY = "allergy"
INJURY = "injury"
PREGNANCY = "pregnancy"
GENERAL = "general"


def _fuzzy(word: str) -> str:
    """A word with the typos of a phone keyboard tolerated: one error from 6 letters on."""
    # the error must be a letter: "de maio" is not a typo of "desmaio"
    return f"(?:{word}){{e<=1:[a-z]}}" if len(word) >= 6 else word


def _any(*words: str) -> str:
    return "(?:" + "|".join(_fuzzy(word) if " " not in word else word for word in words) + ")"


def _near(first: str, second: str, gap: int = 4) -> str:
    """`first`, then `second` within `gap` words."""
    return rf"\b{first}\b(?: \w+){{0,{gap}}} \b{second}\b"


_PAIN = _any("dor", "dores", "doendo", "doi", "doe", "aperto", "apertando", "pontada", "queimacao", "pressao")
_CHEST = _any("peito", "peto", "pieto", "peitu", "torax", "coracao")

# Each category: patterns over the folded text (lowercase, no accents, single spaces).
_LEXICON: dict[str, tuple[str, ...]] = {
    CARDIAC: (
        _near(_PAIN, _CHEST, 4),
        _near(_CHEST, _any("doendo", "doi", "apertado", "apertando", "queimando", "disparado", "disparando"), 2),
        _any("infarto", "infartando", "infartou", "enfarte", "enfarto", "infrato", "ataque cardiaco"),
        r"\bataque do coracao\b|\bparada cardi\w*|\bcoracao parou\b",
        _near(_PAIN, r"braco esquerdo", 3),
    ),
    BREATHING: (
        r"\bfalta (?:de |d )?ar\b|\bfaltando (?:o )?ar\b|\bsem ar\b|\bsem folego\b|\bperdendo o ar\b",
        r"\b(?:nao|sem) (?:\w+ ){0,2}(?:consigo|consegue|conseguindo|conseguir|esta|ta|to|estou) (?:\w+ )?"
        + _any("respirar", "respirando"),
        r"\b(?:dificuldade|dificil) (?:de |pra |para |em )?" + _any("respirar"),
        _any("sufocando", "sufocado", "sufocada", "engasgado", "engasgada", "engasgou", "engasgando"),
        r"\bcrise (?:forte )?de asma\b|\broxo\b|\broxa\b|\blabios roxos\b",
    ),
    STROKE: (
        r"\bavc\b|\b" + _any("derrame") + r"\b",
        r"\bboca torta\b|\brosto torto\b|\bcara torta\b|\bboca caida\b",
        r"\bfala (?:enrolada|embolada|arrastada)\b|\bfalando (?:enrolado|embolado|estranho)\b",
        r"\benrolando a (?:fala|lingua)\b",
        r"\b(?:lado do corpo|braco|perna|rosto) (?:\w+ )?(?:dormente|paralisad[oa]|parad[oa])\b",
        r"\b(?:lado do corpo|braco|perna|rosto) (?:\w+ )?sem (?:forca|movimento)\b",
        r"\bperdeu (?:a )?forca\b|\bnao (?:consegue|consigo) (?:mexer|falar|levantar o braco)\b",
    ),
    UNCONSCIOUS: (
        _any("desmaiou", "desmaiei", "desmaiado", "desmaiada", "desmaiando", "desmaio", "desmaiar"),
        _any("desacordado", "desacordada", "inconsciente", "convulsao", "convulsionando", "convulsionou"),
        r"\bconvulsoes\b|\bataque epilep\w*|\bcrise convulsiva\b|\bnao (?:quer )?acorda\b|\bnao esta acordando\b",
        r"\b(?:caiu|caido|caida) (?:\w+ )?(?:e )?nao (?:levanta|acorda|responde|se mexe)\b",
        r"\bperdeu (?:os )?sentidos\b",
    ),
    BLEEDING: (
        _any("hemorragia", "hemorragico"),
        r"\bsangr\w* (?:muito|demais|bastante|sem parar|forte|muito forte)\b|\bmuito sangue\b|\bsangue demais\b",
        r"\bsangramento (?:forte|intenso|grande|que nao para)\b|\bnao (?:para|parou|para) de sangrar\b",
        r"\b(?:vomitando|vomito|vomitou|tossindo|cuspindo) (?:com )?sangue\b|\bperdendo (?:muito )?sangue\b",
    ),
    POISONING: (
        _any("envenenado", "envenenada", "envenenamento", "intoxicado", "intoxicada", "intoxicacao", "overdose"),
        r"\b(?:tomou|bebeu|engoliu|ingeriu|comeu) (?:\w+ ){0,2}(?:veneno|agua sanitaria|soda|chumbinho)\b",
        r"\b(?:tomou|bebeu|engoliu|ingeriu) (?:\w+ ){0,2}(?:produto de limpeza|querosene|gasolina|raticida)\b",
        r"\b(?:tomou|tomei|engoliu|engoli) (?:\w+ ){0,2}(?:remedios|comprimidos|cartela|caixa de remedio)\b",
        r"\b(?:remedio|remedios|comprimidos|pilulas) (?:demais|a mais|de uma vez)\b",
        r"\b(?:picad[oa]|mordid[oa]|picou|mordeu) (?:\w+ ){0,3}(?:cobra|escorpiao|aranha|jararaca|cascavel)\b",
    ),
    SUICIDE: (
        r"\b(?:me|se) matar\b|\bme mato\b|\b" + _any("suicidio", "suicidar") + r"\b|\bsuicid\w*",
        r"\b(?:tirar|acabar com|por fim (?:a|na)|dar fim (?:a|na)) (?:a )?(?:minha|propria) (?:propria )?vida\b",
        r"\bnao quero mais viver\b|\bquero (muito |tanto |so )?morrer\b|\bvontade de morrer\b|\bsem vontade de viver\b",
        r"\bnao aguento mais viver\b|\bme (?:machucar|cortar)\b|\bpensando em (?:me matar|morrer|acabar com tudo)\b",
    ),
    ALLERGY: (
        _any("anafilaxia", "anafilatico", "anafilatica"),
        r"\b(?:garganta|lingua|boca|rosto) (?:\w+ ){0,2}(?:fechando|inchad[oa]|inchando|inchou)\b|\bchoque alergico\b",
        r"\b(?:alergia|reacao alergica) (?:muito )?(?:forte|grave|seria)\b",
    ),
    INJURY: (
        _any("atropelado", "atropelada", "atropelamento", "baleado", "baleada", "esfaqueado", "esfaqueada"),
        r"\bacidente (?:de carro|de moto|de transito|grave|feio)\b|\bfratura exposta\b|\bosso (?:pra|para) fora\b",
        r"\bqueimadura (?:grave|grande|feia|de terceiro grau)\b|\blevou (?:um )?tiro\b|\btraumatismo\b",
        r"\bcaiu (?:de|da|do) (?:uma )?(?:altura|escada|laje|telhado|andaime)\b|\bbateu (?:forte )?a cabeca\b",
    ),
    PREGNANCY: (
        r"\bbolsa (?:\w+ )?(?:estourou|rompeu|estourando)\b|\b(?:estourou|rompeu) a bolsa\b",
        r"\b(?:gravida|gestante|gravidez)\b(?: \w+){0,4} \b(?:sangr\w*|sangue|dor forte|contracoes|desmai\w*)\b",
        r"\bsangr\w* (?:na|durante a) gravidez\b|\b(?:entrando|entrou) em trabalho de parto\b",
    ),
    GENERAL: (
        r"\b(?:e|eh|uma|caso de|situacao de) emergencia\b|\bemergencia medica\b|\burgencia medica\b",
        r"\b(?:estou|to|tou|esta|ta|estamos|ele esta|ela esta) passando (?:muito )?mal\b|\bpassando muito mal\b",
        r"\b(?:chama|chamar|chamem|preciso de|mande|manda|mandar) (?:uma |a )?" + _any("ambulancia") + r"\b",
        r"\bsamu\b|\b(?:vou|vai|ta|esta|estou|to) morrendo\b",
        r"\bsocorro\b(?: \w+){0,3} \b(?:mal|morrendo|sangue|ar|dor)\b",
    ),
}
_COMPILED = {
    category: [regex.compile(pattern, regex.BESTMATCH) for pattern in patterns]
    for category, patterns in _LEXICON.items()
}

# Requests about the plan that may name a symptom without it happening now.
_PAPERWORK = regex.compile(
    r"\b(?:reembolso|boleto|mensalidade|extrato|declaracao|demonstrativo|protocolo|carteirinha|carencia|"
    r"carencias|cobre|cobertura|coberto|autorizacao|guia|cirurgia|exame|exames|consulta|consultas|"
    r"coparticipacao|imposto|fatura|cancelar|cancelamento|reclamacao|ouvidoria)\b"
)
_NEGATED = regex.compile(r"\b(?:sem|nao (?:estou|to|tenho|tive|sinto|senti)(?: com)?|nunca tive)\s*$")


@dataclass(frozen=True)
class Emergency:
    category: str
    matched: str  # the words that were recognised, folded (never logged: it may be health data)


def detect(text: str | None) -> Emergency | None:
    """The emergency in `text`, or None. Thoughts of suicide always count; other signs named in a
    request about paperwork or coverage count only with a sign that it is happening now."""
    folded = fold(text)
    if not folded:
        return None
    for category, patterns in _COMPILED.items():
        for pattern in patterns:
            match = pattern.search(folded)
            if match is None or _NEGATED.search(folded[: match.start()]):
                continue
            if category != SUICIDE and _PAPERWORK.search(folded) and not _happening_now(folded):
                continue
            return Emergency(category, match.group(0))
    return None


def _happening_now(folded: str) -> bool:
    return bool(regex.search(r"\b(?:agora|urgente|socorro|rapido|neste momento|nesse momento|ja)\b", folded))
