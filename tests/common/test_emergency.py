"""The emergency lexicon: what people type in a medical emergency, typos included, is recognised;
ordinary requests are not."""

from __future__ import annotations

import pytest

from common.emergency import (
    ALLERGY,
    BLEEDING,
    BREATHING,
    CARDIAC,
    GENERAL,
    INJURY,
    POISONING,
    PREGNANCY,
    STROKE,
    SUICIDE,
    UNCONSCIOUS,
    detect,
)

EMERGENCIES = [
    ("estou com dor forte no peito e sem ar", CARDIAC),
    ("to com uma dor no peito muito forte", CARDIAC),
    ("dor no peto e formigamento no braço", CARDIAC),
    ("meu pai esta com o peito apertado", CARDIAC),
    ("acho que minha mãe está infartando", CARDIAC),
    ("ele teve um infrato agora", CARDIAC),
    ("sinto uma pressão no peito que não passa", CARDIAC),
    ("dor no braço esquerdo e suor frio", CARDIAC),
    ("meu coração está disparado e dói o peito", CARDIAC),
    ("ataque cardiaco socorro", CARDIAC),
    ("nao consigo respirar", BREATHING),
    ("minha filha esta com falta de ar", BREATHING),
    ("falta d ar forte", BREATHING),
    ("to sem ar", BREATHING),
    ("meu filho engasgou e esta ficando roxo", BREATHING),
    ("dificuldade pra respirar desde cedo", BREATHING),
    ("ela nao esta conseguindo respirar direito", BREATHING),
    ("crise de asma forte no meu filho", BREATHING),
    ("minha avo ta sem conseguir respirar", BREATHING),
    ("meu avô está com a boca torta", STROKE),
    ("acho que é um avc", STROKE),
    ("minha mae teve um derame", STROKE),
    ("ele está com a fala enrolada e o braço dormente", STROKE),
    ("perdeu a força do lado direito", STROKE),
    ("o lado do corpo ficou paralisado", STROKE),
    ("minha mãe desmaiou", UNCONSCIOUS),
    ("meu marido desmailou no banheiro", UNCONSCIOUS),
    ("ele está desacordado", UNCONSCIOUS),
    ("meu filho esta tendo uma convulsão", UNCONSCIOUS),
    ("bebe convulsionando", UNCONSCIOUS),
    ("ela caiu e nao acorda", UNCONSCIOUS),
    ("esta sangrando muito", BLEEDING),
    ("cortei a mão e não para de sangrar", BLEEDING),
    ("hemoragia forte", BLEEDING),
    ("meu pai está vomitando sangue", BLEEDING),
    ("sangramento intenso depois da cirurgia, o que eu faço agora", BLEEDING),
    ("meu filho bebeu agua sanitaria", POISONING),
    ("minha filha tomou veneno de rato", POISONING),
    ("acho que ele está envenenado", POISONING),
    ("ela tomou uma cartela inteira de remedios", POISONING),
    ("fui picado por um escorpião", POISONING),
    ("ele tomou remedio demais", POISONING),
    ("intoxicação com produto de limpeza", POISONING),
    ("overdose", POISONING),
    ("quero me matar", SUICIDE),
    ("estou pensando em suicidio", SUICIDE),
    ("nao quero mais viver", SUICIDE),
    ("vou acabar com a minha vida", SUICIDE),
    ("tenho vontade de morrer", SUICIDE),
    ("penso em me cortar", SUICIDE),
    ("suicídio, preciso de ajuda com o reembolso do psiquiatra", SUICIDE),
    ("minha garganta está fechando", ALLERGY),
    ("reação alérgica grave, a língua está inchando", ALLERGY),
    ("choque anafilatico", ALLERGY),
    ("a garganta dele esta fechando depois do camarão", ALLERGY),
    ("meu irmão foi atropelado", INJURY),
    ("acidente de moto, ele está no chão", INJURY),
    ("fratura exposta na perna", INJURY),
    ("meu filho caiu da escada e bateu a cabeça", INJURY),
    ("a bolsa estourou", PREGNANCY),
    ("estou gravida e com sangramento", PREGNANCY),
    ("é uma emergência", GENERAL),
    ("to passando muito mal", GENERAL),
    ("preciso de uma ambulancia", GENERAL),
    ("chama o samu", GENERAL),
    ("estou morrendo", GENERAL),
    ("ESTOU COM DOR NO PEITO", CARDIAC),
    ("dor no peito!!!", CARDIAC),
]

ORDINARY = [
    "oi",
    "bom dia",
    "esqueci minha senha",
    "quero a segunda via do boleto",
    "tem cardiologista em aracaju?",
    "quero pedir reembolso de uma consulta com cardiologista",
    "reembolso da consulta de dor no peito que tive mês passado",
    "o plano cobre cirurgia de infarto?",
    "qual hospital de pronto socorro atende meu plano em brasilia",
    "quais vacinas o plano cobre",
    "como funciona a telemedicina",
    "perdi minha carteirinha",
    "minha filha perdeu a carteirinha",
    "quero falar com um atendente",
    "socorro, esqueci a senha",
    "direito do consumidor",
    "meu cpf é 529.982.247-25",
    "12/03/1985",
    "qual o meu plano",
    "tenho carência para parto?",
    "quero o extrato de utilização",
    "declaração de quitação de débitos",
    "como está meu reembolso",
    "não estou com dor no peito, só quero o boleto",
    "quero mudar meu e-mail cadastrado",
    "o atendimento foi péssimo, quero reclamar",
    "exame de sangue precisa de autorização?",
    "quero marcar consulta com pediatra em São Paulo",
    "qual o telefone da central",
    "meu filho precisa de um ortopedista",
    "quero cancelar",
    "home care, como peço?",
    "a consulta foi por causa de uma alergia",
    "tchau, obrigado",
    "leito de hospital credenciado em são paulo",
    "aperto o botão e nada acontece no aplicativo",
    "meus atendimentos de maio de 2025",
    "o extrato de maio",
]


@pytest.mark.parametrize(("text", "category"), EMERGENCIES)
def test_recognises_an_emergency(text: str, category: str) -> None:
    found = detect(text)
    assert found is not None, text
    assert found.category == category


@pytest.mark.parametrize("text", ORDINARY)
def test_an_ordinary_request_is_not_an_emergency(text: str) -> None:
    assert detect(text) is None


def test_enough_varied_messages() -> None:
    assert len(EMERGENCIES) >= 60
    assert len({category for _, category in EMERGENCIES}) >= 10
