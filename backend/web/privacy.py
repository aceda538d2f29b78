"""GET /privacidade: how the assistant uses personal data (LGPD), linked from its first message."""

from aiohttp import web

from backend.api.context import OPERATOR
from backend.web.pages import message

routes = web.RouteTableDef()
PATH = "/privacidade"


@routes.get(PATH)
async def privacy_notice(request: web.Request) -> web.Response:
    operator = request.app[OPERATOR]
    return message(
        operator,
        "Privacidade no assistente virtual",
        f"O assistente virtual da {operator.name} usa seus dados pessoais (carteirinha, CPF, data de nascimento, "
        "e-mail) só para confirmar que é você e atender o seu pedido, como manda a Lei Geral de Proteção de "
        "Dados (LGPD, Lei 13.709/2018). Dados de saúde são dados sensíveis e recebem proteção reforçada.",
        "O assistente nunca pede a sua senha. Senhas são criadas e trocadas só em páginas seguras, por link.",
        "CPF, e-mail e datas aparecem mascarados nas mensagens e nos registros do sistema. A confirmação da sua "
        "identidade vale enquanto a conversa está ativa e acaba depois de alguns minutos sem uso ou quando você "
        "se despede.",
        'Para falar com uma pessoa, você não precisa informar nenhum dado: escreva "atendente" a qualquer '
        "momento. Para exercer seus direitos de titular (acesso, correção, exclusão), fale com a central.",
    )
