"""Correction of an earlier answer inside any form ("errei o CPF", "a data está errada"): the
named value — or, when none is named, the last one given — is cleared and asked again; all the
other answers are kept."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.identity import IDENTITY_SLOTS, MOTHER_SLOT
from common.text import fold

# --- what the bot says ---------------------------------------------------------------------------
SEND_AGAIN_TEXT = "Sem problema, é só me mandar a informação certa."
WHICH_ONE_TEXT = 'Tudo bem. Me diga qual informação quer corrigir, por exemplo: "errei o CPF".'
ALREADY_CONFIRMED_TEXT = "Seus dados de identificação já foram confirmados, então não precisa corrigir. Vamos seguir."
CORRECTING_TEXT = "Sem problema, vamos corrigir {what}."
SOME_VALUE = "essa informação"
# what each value is called in CORRECTING_TEXT
_LABELS = {
    "cpf": "o CPF",
    "data_nascimento": "a data de nascimento",
    "login": "a carteirinha ou o e-mail",
    MOTHER_SLOT: "o nome da sua mãe",
    "nome_completo": "o nome completo",
    "email_novo": "o novo e-mail",
    "email_confirmacao": "a confirmação do e-mail",
    "reembolso_data": "a data do atendimento",
    "reembolso_valor": "o valor",
    "reembolso_prestador": "o prestador",
    "reembolso_doc_prestador": "o CPF ou CNPJ do prestador",
    "reembolso_descricao": "o procedimento",
    "carteirinha_motivo": "o motivo",
    "carteirinha_bo": "o número do B.O.",
    "carteirinha_obs": "a observação",
    "cidade": "a cidade",
    "especialidade": "a especialidade",
    "protocolo": "o número do protocolo",
}

# words in the message -> the slots they may name, first match in the active form wins
_NAMED = (
    (("mae",), (MOTHER_SLOT,)),
    (("cnpj", "cpf do prestador", "cpf do medico", "documento do prestador"), ("reembolso_doc_prestador",)),
    (("cpf",), ("cpf",)),
    (("nascimento", "aniversario"), ("data_nascimento",)),
    (("data", "dia"), ("reembolso_data", "data_nascimento")),
    (("carteirinha", "cartao", "numero do plano"), ("login",)),
    (("email", "e mail"), ("email_confirmacao", "email_novo", "login")),
    (("valor", "preco", "reais", "paguei"), ("reembolso_valor",)),
    (("prestador", "clinica", "medico", "laboratorio"), ("reembolso_prestador",)),
    (("procedimento", "descricao", "o que foi feito"), ("reembolso_descricao",)),
    (("motivo",), ("carteirinha_motivo",)),
    (("b o", "bo", "boletim"), ("carteirinha_bo",)),
    (("observacao",), ("carteirinha_obs",)),
    (("cidade",), ("cidade",)),
    (("protocolo",), ("protocolo",)),
    (("especialidade",), ("especialidade",)),
    (("nome",), ("nome_completo", MOTHER_SLOT)),
)


def named_slot(text: str, form_slots: list[str]) -> str | None:
    padded = f" {fold(text)} "
    for words, slots in _NAMED:
        if any(f" {word} " in padded for word in words):
            for slot in slots:
                if slot in form_slots:
                    return slot
    return None


def last_answered(tracker: Tracker, form_slots: list[str]) -> str | None:
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") in form_slots and event.get("value") is not None:
            return event["name"]
    return None


class ActionCorrigirDado(Action):
    def name(self) -> str:
        return "action_corrigir_dado"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        form = tracker.active_loop_name
        form_slots = list(((domain.get("forms") or {}).get(form) or {}).get("required_slots") or [])
        text = (tracker.latest_message or {}).get("text") or ""
        slot = named_slot(text, form_slots) or last_answered(tracker, form_slots)
        verified = tracker.get_slot("identidade_token") is not None
        if slot is None and tracker.get_slot("requested_slot"):
            # nothing accepted yet in this form (a number that was refused, say): just send it again
            dispatcher.utter_message(text=SEND_AGAIN_TEXT)
            return []
        if slot is None:
            dispatcher.utter_message(text=WHICH_ONE_TEXT)
            return []
        if verified and slot in (*IDENTITY_SLOTS, MOTHER_SLOT):
            dispatcher.utter_message(text=ALREADY_CONFIRMED_TEXT)
            return []
        dispatcher.utter_message(text=CORRECTING_TEXT.format(what=_LABELS.get(slot, SOME_VALUE)))
        events = [SlotSet(slot, None)]
        if slot in ("reembolso_membro", "carteirinha_membro"):
            events.append(SlotSet(f"{slot}_nome", None))
        return events
