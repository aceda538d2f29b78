"""Which earlier answer "errei o …" names, in the form being filled."""

from bot.actions.correction import named_slot

REIMBURSEMENT = [
    "login",
    "cpf",
    "data_nascimento",
    "nome_mae",
    "reembolso_prestador",
    "reembolso_doc_prestador",
    "reembolso_data",
    "reembolso_descricao",
    "reembolso_valor",
]
IDENTITY = ["login", "cpf", "data_nascimento", "nome_mae"]


def test_the_named_value_in_the_active_form():
    assert named_slot("errei o CPF", IDENTITY) == "cpf"
    assert named_slot("a data de nascimento tá errada", IDENTITY) == "data_nascimento"
    assert named_slot("o nome da minha mãe está errado", IDENTITY) == "nome_mae"
    assert named_slot("digitei o e-mail errado", IDENTITY) == "login"
    assert named_slot("errei o valor", REIMBURSEMENT) == "reembolso_valor"
    assert named_slot("o CNPJ está errado", REIMBURSEMENT) == "reembolso_doc_prestador"
    assert named_slot("a data está errada", REIMBURSEMENT) == "reembolso_data"  # the service date, not the birth


def test_nothing_named_leaves_the_choice_to_the_last_answer():
    assert named_slot("errei", REIMBURSEMENT) is None
    assert named_slot("errei o valor", IDENTITY) is None  # not a question of this form
