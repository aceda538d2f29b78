"""Who may call what: one middleware in front of every route of the backend.

Three kinds of caller, three credentials, never interchangeable:

- **the assistant's action server** (the only client of the plan-system API): every route that is
  not listed below requires `Authorization: Bearer <BACKEND_SERVICE_TOKEN>` (Settings
  `backend_service_token`, compared in constant time). Without it, or with a wrong one: 401
  `service_unauthorized`. When the backend has no token configured, nothing gets through
  (fail closed). Unknown paths under `/api/` answer 401 too, so the API cannot be mapped
  without the credential;
- **call-centre agents**: `/api/agent/*` (except the login) takes the agent's bearer token of
  `POST /api/agent/login`, checked by backend/api/agent.py; the service token is not an agent
  token and an agent token is not the service token;
- **anyone**: the routes public by design, listed in PUBLIC_ROUTES:

  | route | why it is public |
  |---|---|
  | `GET /api/health` | health check of load balancers and `make run` (says only "ok" or "unavailable") |
  | `POST /api/auth/login` | the app's login (its own lockout and rate limits, docs/security.md) |
  | `GET /api/operator` | the operator's public facts: name, ANS registration, phones, hours, password policy |
  | `POST /api/agent/login` | the agents' login (docs/handoff.md); the rest of `/api/agent/*` needs an agent token |
  | `GET /` | the website's demo page with the chat widget |
  | `GET /widget/{file}` | the widget's script and styles (a fixed list of files) |
  | `GET /static/...` | the console's and pages' static files |
  | `GET /atendente` | the agent console page (its data comes from `/api/agent/*`) |
  | `GET /privacidade` | the privacy notice (LGPD) |
  | `GET`, `POST /conta/ativar/{token}` | account activation page of the e-mailed single-use link (CSRF) |
  | `GET`, `POST /conta/alterar-senha/{token}` | password change page of the single-use link (CSRF) |
  | `GET`, `POST /conta/confirmar-email/{token}` | e-mail confirmation page of the single-use link (CSRF) |
  | `GET`, `POST /conta/cancelar-troca-de-email/{token}` | the old address cancels an e-mail change (CSRF) |
  | `GET /documentos/{token}` | documents behind a signed link of 15 minutes (backend.signed_links) |
  | `GET`, `POST /conta/senha-empresa/{token}` | a company user sets the portal password (single-use link, CSRF) |

  HEAD is allowed wherever GET is. Paths outside `/api/` that match no route answer 404.

A new route is service-only until it is added here; tests/backend/test_backend_service_auth.py
walks the router so that none can be forgotten.
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from backend.api.context import SETTINGS
from backend.refusals import Refusals, Refused

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
AGENT_PREFIX = "/api/agent/"
AGENT_LOGIN = "/api/agent/login"
_FORM = frozenset({"GET", "HEAD", "POST"})
_PAGE = frozenset({"GET", "HEAD"})

# resource (aiohttp's canonical path of the matched route) -> methods anyone may use
PUBLIC_ROUTES: dict[str, frozenset[str]] = {
    "/api/health": _PAGE,
    "/api/auth/login": frozenset({"POST"}),
    "/api/operator": _PAGE,
    AGENT_LOGIN: frozenset({"POST"}),
    "/": _PAGE,
    "/widget/{file}": _PAGE,
    "/static": _PAGE,
    "/atendente": _PAGE,
    "/privacidade": _PAGE,
    "/conta/ativar/{token}": _FORM,
    "/conta/alterar-senha/{token}": _FORM,
    "/conta/confirmar-email/{token}": _FORM,
    "/conta/cancelar-troca-de-email/{token}": _FORM,
    "/documentos/{token}": _PAGE,
    "/conta/senha-empresa/{token}": _FORM,
}

PUBLIC = "public"
AGENT = "agent"
SERVICE = "service"
UNMATCHED = "unmatched"


def route_access(method: str, canonical: str | None, path: str) -> str:
    """Which credential a request needs: PUBLIC, AGENT (checked by the agent API), SERVICE, or
    UNMATCHED (no route outside /api/: let the router answer 404/405)."""
    if canonical is not None and method.upper() in PUBLIC_ROUTES.get(canonical, ()):
        return PUBLIC
    if canonical is not None and canonical.startswith(AGENT_PREFIX) and canonical != AGENT_LOGIN:
        return AGENT
    if canonical is None and not path.startswith(API_PREFIX):
        return UNMATCHED
    return SERVICE


def _canonical(request: web.Request) -> str | None:
    if request.match_info.http_exception is not None:
        return None
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else None


def _bearer(request: web.Request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


REFUSALS = Refusals(
    {
        "service_unauthorized": "Acesso restrito aos serviços do assistente. Envie a credencial de serviço.",
    }
)


def service_unauthorized() -> Refused:
    """401 with WWW-Authenticate (backend.api.errors.HEADERS_BY_CODE)."""
    return REFUSALS.refuse("service_unauthorized")


def is_service_call(request: web.Request) -> bool:
    expected = request.app[SETTINGS].backend_service_token
    given = _bearer(request)
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


@web.middleware
async def service_auth_middleware(request: web.Request, handler) -> web.StreamResponse:
    access = route_access(request.method, _canonical(request), request.path)
    if access == SERVICE and not is_service_call(request):
        log.info("service call refused", extra={"method": request.method, "path": request.path})
        raise service_unauthorized()
    return await handler(request)
