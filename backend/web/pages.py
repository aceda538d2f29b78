"""HTML rendering: templates/<name>.html filled with string.Template; every value goes in escaped
unless it is a fragment built here."""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template

from aiohttp import web

from backend.operator_profile import OperatorProfile
from backend.passwords import PasswordPolicy
from common.pii import only_digits

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# Tokens travel in the URL: no Referer may carry them away, and nothing is cached.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class Html(str):
    """A fragment already safe to insert as it is."""


def fill(name: str, **values: str) -> Html:
    safe = {key: value if isinstance(value, Html) else escape(str(value)) for key, value in values.items()}
    return Html(Template((TEMPLATES_DIR / f"{name}.html").read_text(encoding="utf-8")).substitute(safe))


def page(operator: OperatorProfile, title: str, body: Html, status: int = 200) -> web.Response:
    phone = operator.phones["central_24h"]
    html = fill("layout", title=title, body=body, operator=operator.name, phone=phone, tel=only_digits(phone))
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)


def message(operator: OperatorProfile, title: str, *paragraphs: str, status: int = 200) -> web.Response:
    return page(
        operator,
        title,
        fill("message", title=title, paragraphs=Html("".join(f"<p>{escape(p, quote=False)}</p>" for p in paragraphs))),
        status,
    )


def error_list(errors: list[str]) -> Html:
    if not errors:
        return Html("")
    items = "".join(f"<li>{escape(error, quote=False)}</li>" for error in errors)
    return Html(f'<div class="erros" role="alert"><p>Confira o que falta:</p><ul>{items}</ul></div>')


def policy_rules(policy: PasswordPolicy, history_size: int) -> Html:
    """The checklist of the policy; backend/static/senha.js checks each data-rule as the user types."""
    items = []
    for rule in policy.rules():
        value = "" if rule.value is None else str(rule.value)
        hidden = " hidden" if rule.code == "max_bytes" else ""
        items.append(f'<li data-rule="{rule.code}" data-value="{value}"{hidden}>{escape(rule.message)}</li>')
    items.append("<li>Não use seu CPF, o número da carteirinha nem sua data de nascimento.</li>")
    items.append(f"<li>Não repita nenhuma das suas últimas {history_size} senhas.</li>")
    return Html("".join(items))
