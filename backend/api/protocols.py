from aiohttp import web

from backend.api.context import SESSIONS
from backend.api.errors import ApiError
from backend.api.responses import json_response
from backend.clock import iso_utc
from backend.protocols import PROTOCOL_DIGITS, find_protocol

routes = web.RouteTableDef()
KIND_LABELS = {
    "password_reset": "recuperação de senha",
    "registration": "cadastro no aplicativo",
    "password_change": "troca de senha",
    "email_change": "troca de e-mail",
    "card_reissue": "segunda via da carteirinha",
    "reimbursement": "reembolso",
    "bank_slip_copy": "segunda via de boleto",
    "statement": "declaração ou extrato",
    "handoff": "atendimento com atendente",
    "complaint": "reclamação",
}
STATUS_LABELS = {"open": "aberto", "in_progress": "em andamento", "completed": "concluído", "cancelled": "cancelado"}


@routes.get("/api/protocols/{number}")
async def get_protocol(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    protocol = None
    if number.isdigit() and len(number) == PROTOCOL_DIGITS:
        async with request.app[SESSIONS]() as session:
            protocol = await find_protocol(session, number)
    if protocol is None:
        raise ApiError(
            404, "protocol_not_found", "Não encontrei esse protocolo. Confira os 20 números e tente de novo."
        )
    return json_response(
        {
            "protocol": protocol.number,
            "kind": protocol.kind,
            "kind_label": KIND_LABELS.get(protocol.kind, "atendimento"),
            "status": protocol.status,
            "status_label": STATUS_LABELS.get(protocol.status, protocol.status),
            "created_at": iso_utc(protocol.created_at),
            "created_on_text": f"{protocol.created_at:%d/%m/%Y}",
        }
    )
