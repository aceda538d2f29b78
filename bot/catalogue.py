"""The catalogue of the requests the assistant serves (bot/catalogue.yml), loaded and checked once.

What the actions need from it: the button label of each request (Catalogue.intent_labels ->
conversation.INTENT_LABELS), the intents never taken as the answer to a question (never_answers ->
identity.extract_from_text) and the slots a flow owns, forgotten when it ends (flow_slots -> flow_reset.FLOW_SLOTS).
scripts/gen_catalogue.py writes the dialogue rules from it (`make catalogue`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yml")


class CatalogueError(ValueError):
    """bot/catalogue.yml is malformed or contradicts itself."""


@dataclass(frozen=True)
class Form:
    name: str
    title: str
    slots: tuple[str, ...]
    then: str  # the action run when the form completes
    flow_slots: tuple[str, ...] = ()
    answers_itself: tuple[str, ...] = ()
    not_interrupted_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    action: str
    rule: str  # the rule's name outside a form
    in_form_rule: str  # the rule's name in a form; {form} is the form's title

    def in_form(self, form: Form) -> str:
        return self.in_form_rule.format(form=form.title)


@dataclass(frozen=True)
class Services:
    rule: str
    register: str
    form: str


@dataclass(frozen=True)
class CompanyServices:
    """The employer's side (bot/actions/company_identity.py): the company user's identity check (user code,
    CNPJ, one-time code e-mailed) every `company: true` request starts with, and how a
    `company_service: true` request is served (`register` -> `form` -> the form's `then`)."""

    identity_slots: tuple[str, ...]
    rule: str
    register: str
    form: str


@dataclass(frozen=True)
class Request:
    intent: str
    label: str
    identity: bool
    form: str | None = None
    service: bool = False
    answer: str | None = None
    reply: str | None = None
    interrupts_forms: bool = False
    protocol_kind: str | None = None
    company_service: bool = False
    company: bool = False  # the company user's identity is checked first (not the beneficiary's)


@dataclass(frozen=True)
class Catalogue:
    identity_slots: tuple[str, ...]
    identity_flow_slots: tuple[str, ...]
    forms: dict[str, Form]
    services: Services
    answers: dict[str, Answer]
    requests: dict[str, Request]
    controls: tuple[str, ...]
    company: CompanyServices | None = None

    def form_intent(self, form: str) -> str | None:
        """The request whose intent starts `form` (None for the identity check of the services)."""
        return next((r.intent for r in self.requests.values() if r.form == form), None)

    def service_intents(self) -> list[str]:
        return [r.intent for r in self.requests.values() if r.service]

    def company_service_intents(self) -> list[str]:
        return [r.intent for r in self.requests.values() if r.company_service]

    def answer_intents(self, action: str, form: Form | None = None) -> list[str]:
        """The intents `action` answers; in `form`, those the form does not answer itself."""
        skip = form.answers_itself if form else ()
        return [r.intent for r in self.requests.values() if r.answer == action and r.intent not in skip]

    def switch_intents(self, form: Form) -> list[str]:
        """The requests that stop `form` and start themselves: every interrupting request but its own and
        those the form's answers are often taken for (`not_interrupted_by`)."""
        return [
            r.intent
            for r in self.requests.values()
            if r.interrupts_forms and r.form != form.name and r.intent not in form.not_interrupted_by
        ]

    def intent_labels(self) -> dict[str, str]:
        return {r.intent: r.label for r in self.requests.values()}

    def never_answers(self, form: str | None = None) -> frozenset[str]:
        """The intents never taken as the answer to a question; in `form`, except its own request
        ("Extravio", the reason of a lost card, reads as asking for the card again) and the requests
        its answers are often taken for ("Clínica Pele Sã" reads as a network search)."""
        kept: set[str] = set()
        if form in self.forms:
            kept.update(self.forms[form].not_interrupted_by)
            kept.add(self.form_intent(form) or "")
        return (frozenset(self.requests) | frozenset(self.controls)) - kept

    def flow_slots(self) -> tuple[str, ...]:
        """Every slot a flow fills, identity first, then form by form; no duplicates."""
        slots = list(self.identity_slots) + list(self.identity_flow_slots)
        for form in self.forms.values():
            slots += form.slots + form.flow_slots
        return tuple(dict.fromkeys(slots))


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CatalogueError(f"{where}: expected a list of names, got {value!r}")
    if len(set(value)) != len(value):
        raise CatalogueError(f"{where}: repeated names in {value!r}")
    return tuple(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: expected a non-empty text, got {value!r}")
    return value


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise CatalogueError(f"{where}: expected a non-empty mapping, got {value!r}")
    return value


def _mapping(value: Any, where: str, required: set[str], optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    value = _dict(value, where)
    missing = required - set(value)
    unknown = set(value) - required - optional
    if missing or unknown:
        raise CatalogueError(f"{where}: missing {sorted(missing)}, unknown {sorted(unknown)}")
    return value


def _form(name: str, raw: Any) -> Form:
    where = f"forms.{name}"
    raw = _mapping(
        raw, where, {"title", "slots", "then"}, frozenset({"flow_slots", "answers_itself", "not_interrupted_by"})
    )
    return Form(
        name=name,
        title=_text(raw["title"], f"{where}.title"),
        slots=_names(raw["slots"], f"{where}.slots"),
        then=_text(raw["then"], f"{where}.then"),
        flow_slots=_names(raw.get("flow_slots", []), f"{where}.flow_slots"),
        answers_itself=_names(raw.get("answers_itself", []), f"{where}.answers_itself"),
        not_interrupted_by=_names(raw.get("not_interrupted_by", []), f"{where}.not_interrupted_by"),
    )


def _answer(action: str, raw: Any) -> Answer:
    where = f"answers.{action}"
    raw = _mapping(raw, where, {"rule", "in_form_rule"})
    in_form_rule = _text(raw["in_form_rule"], f"{where}.in_form_rule")
    if "{form}" not in in_form_rule:
        raise CatalogueError(f"{where}.in_form_rule: must name the form with {{form}}")
    return Answer(action=action, rule=_text(raw["rule"], f"{where}.rule"), in_form_rule=in_form_rule)


_SERVED_BY = ("form", "service", "company_service", "answer", "reply")


def _request(intent: str, raw: Any) -> Request:
    where = f"requests.{intent}"
    raw = _mapping(
        raw, where, {"label", "identity"}, frozenset({*_SERVED_BY, "interrupts_forms", "protocol_kind", "company"})
    )
    served = [key for key in _SERVED_BY if key in raw]
    if len(served) != 1:
        raise CatalogueError(f"{where}: served by exactly one of {', '.join(_SERVED_BY)}; got {served or 'none'}")
    for key in ("identity", "interrupts_forms", "service", "company_service", "company"):
        if key in raw and not isinstance(raw[key], bool):
            raise CatalogueError(f"{where}.{key}: expected true or false, got {raw[key]!r}")
    for key in ("service", "company_service"):
        if raw.get(key) is False:
            raise CatalogueError(f"{where}.{key}: write `{key}: true` or leave it out")
    return Request(
        intent=intent,
        label=_text(raw["label"], f"{where}.label"),
        identity=raw["identity"],
        form=_text(raw["form"], f"{where}.form") if "form" in raw else None,
        service=raw.get("service", False),
        answer=_text(raw["answer"], f"{where}.answer") if "answer" in raw else None,
        reply=_text(raw["reply"], f"{where}.reply") if "reply" in raw else None,
        interrupts_forms=raw.get("interrupts_forms", False),
        protocol_kind=_text(raw["protocol_kind"], f"{where}.protocol_kind") if "protocol_kind" in raw else None,
        company_service=raw.get("company_service", False),
        company=raw.get("company", False),
    )


def _check(catalogue: Catalogue) -> None:
    """What the catalogue says must hold together (domain.yml is checked by scripts/gen_catalogue.py)."""
    problems = []
    services_form = catalogue.forms.get(catalogue.services.form)
    if services_form is None:
        problems.append(f"services.form: no form {catalogue.services.form}")
    company = catalogue.company
    company_form = catalogue.forms.get(company.form) if company else None
    if company is not None and company_form is None:
        problems.append(f"company.form: no form {company.form}")
    service_forms = {catalogue.services.form, *([company.form] if company else [])}
    for form in catalogue.forms.values():
        owners = [r.intent for r in catalogue.requests.values() if r.form == form.name]
        if len(owners) > 1:
            problems.append(f"forms.{form.name}: started by more than one request {owners}")
        if form.name in service_forms and owners:
            problems.append(f"forms.{form.name}: serves the service requests; {owners} cannot own it")
        if form.name not in service_forms and not owners:
            problems.append(f"forms.{form.name}: no request starts it")
        for intent in form.answers_itself:
            if intent not in catalogue.requests or catalogue.requests[intent].answer is None:
                problems.append(f"forms.{form.name}.answers_itself: {intent} is not an `answer` request")
        for intent in form.not_interrupted_by:
            if intent not in catalogue.requests or not catalogue.requests[intent].interrupts_forms:
                problems.append(f"forms.{form.name}.not_interrupted_by: {intent} does not interrupt forms")
    for request in catalogue.requests.values():
        where = f"requests.{request.intent}"
        if request.form is not None and request.form not in catalogue.forms:
            problems.append(f"{where}.form: no form {request.form}")
        if request.answer is not None and request.answer not in catalogue.answers:
            problems.append(f"{where}.answer: {request.answer} is not under `answers`")
        if request.interrupts_forms and not (request.form or request.service or request.company_service):
            problems.append(f"{where}: only a form or a service request interrupts forms")
        if request.company_service and company is None:
            problems.append(f"{where}.company_service: there is no `company` section")
        # the identity is checked when the form serving the request starts with the identity slots
        if request.service:
            serving = services_form
        elif request.company_service:
            serving = company_form
        else:
            serving = catalogue.forms.get(request.form or "")
        checks_identity = (
            serving is not None and serving.slots[: len(catalogue.identity_slots)] == catalogue.identity_slots
        )
        if request.identity != checks_identity:
            problems.append(f"{where}.identity: is {request.identity}, but the identity is checked: {checks_identity}")
        company_slots = company.identity_slots if company else ()
        checks_company = (
            bool(company_slots) and serving is not None and serving.slots[: len(company_slots)] == company_slots
        )
        if request.company != checks_company:
            problems.append(
                f"{where}.company: is {request.company}, but the company identity is checked: {checks_company}"
            )
    for action in catalogue.answers:
        if not catalogue.answer_intents(action):
            problems.append(f"answers.{action}: no request is answered by it")
    overlap = set(catalogue.controls) & set(catalogue.requests)
    if overlap:
        problems.append(f"controls: {sorted(overlap)} are requests too")
    if problems:
        raise CatalogueError("bot/catalogue.yml:\n  " + "\n  ".join(problems))


def parse(raw: Any) -> Catalogue:
    """The catalogue from the YAML document `raw`; CatalogueError says what is wrong with it."""
    raw = _mapping(
        raw, "catalogue", {"identity", "forms", "services", "answers", "requests", "controls"}, frozenset({"company"})
    )
    identity = _mapping(raw["identity"], "identity", {"slots", "flow_slots"})
    services = _mapping(raw["services"], "services", {"rule", "register", "form"})
    company = None
    if "company" in raw:
        section = _mapping(raw["company"], "company", {"identity_slots", "rule", "register", "form"})
        company = CompanyServices(
            identity_slots=_names(section["identity_slots"], "company.identity_slots"),
            **{key: _text(section[key], f"company.{key}") for key in ("rule", "register", "form")},
        )
    catalogue = Catalogue(
        identity_slots=_names(identity["slots"], "identity.slots"),
        identity_flow_slots=_names(identity["flow_slots"], "identity.flow_slots"),
        forms={name: _form(name, value) for name, value in _dict(raw["forms"], "forms").items()},
        services=Services(**{key: _text(services[key], f"services.{key}") for key in ("rule", "register", "form")}),
        answers={action: _answer(action, value) for action, value in _dict(raw["answers"], "answers").items()},
        requests={intent: _request(intent, value) for intent, value in _dict(raw["requests"], "requests").items()},
        controls=_names(raw["controls"], "controls"),
        company=company,
    )
    _check(catalogue)
    return catalogue


def load(path: Path = CATALOGUE_PATH) -> Catalogue:
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")))


CATALOGUE = load()
