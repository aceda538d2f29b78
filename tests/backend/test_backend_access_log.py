"""The backend's access log never carries the secret of a link (/conta/ativar/<token>,
/documentos/<token>...): the token segment is logged as "[token]"."""

from __future__ import annotations

import json
import re
import secrets

import pytest
from aiohttp import web

from backend.api.errors import _is_secret
from backend.app import create_app
from common.pii import SECRET_PLACEHOLDER, mask_secret_paths

# Route variables that are not secrets (ids and numbers a request is about, public file names).
NOT_SECRET = {"id", "protocol", "number", "document_number", "ticket_id", "file", "filename", "user_code"}


def _lines(log) -> list[dict]:
    return [json.loads(line) for line in log.getvalue().splitlines() if line.strip()]


@pytest.mark.parametrize("page", ["/conta/ativar/", "/conta/alterar-senha/", "/conta/confirmar-email/", "/documentos/"])
async def test_a_link_page_is_logged_without_its_token(client, masked_log, page):
    token = secrets.token_urlsafe(32)
    response = await client.get(page + token)
    assert response.status in (200, 404, 410)
    log = masked_log.getvalue()
    assert token not in log
    access = [line for line in _lines(masked_log) if line.get("logger") == "backend.http"]
    assert access and access[-1]["path"] == page + SECRET_PLACEHOLDER
    assert access[-1]["msg"] == f"GET {page}{SECRET_PLACEHOLDER} {response.status}"


async def test_a_mistyped_link_that_matches_no_route_loses_its_token_too(client, masked_log):
    token = secrets.token_urlsafe(32)
    await client.get(f"/conta/ativar/{token}/extra")
    assert token not in masked_log.getvalue()


async def test_other_paths_are_logged_as_they_are(client, masked_log):
    await client.get("/api/protocols/41901020261123000012")
    access = [line for line in _lines(masked_log) if line.get("logger") == "backend.http"]
    assert access[-1]["path"] == "/api/protocols/41901020261123000012"


def test_every_route_with_a_secret_in_its_path_is_masked(sqlite_settings):
    """A new route that carries a secret in its path must name it {token} (or {..._token}), or this
    fails: every variable of every route is either masked or known not to be a secret. (The routes
    are the same on any database.)"""
    app = create_app(sqlite_settings)
    for resource in app.router.resources():
        canonical = resource.canonical
        for variable in re.findall(r"\{(\w+)", canonical):
            assert _is_secret(variable) or variable in NOT_SECRET, f"{canonical}: is {{{variable}}} a secret?"
            if _is_secret(variable):  # the log filter's own net catches it even unmatched
                concrete = canonical.replace("{" + variable + "}", "S3cr3t-t0ken")
                assert "S3cr3t-t0ken" not in mask_secret_paths(concrete), canonical
    assert isinstance(app, web.Application)
