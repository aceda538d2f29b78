"""Migrations that rewrite stored values: a database with the old values, migrated up and back."""

from __future__ import annotations

import sqlalchemy as sa

from backend.migrate import downgrade, upgrade
from backend.settings import Settings

OLD_RELATIONSHIPS = ["titular", "filho", "filha", "cônjuge", "dependente", "avó"]
NEW_RELATIONSHIPS = ["holder", "son", "daughter", "spouse", "dependent", "avó"]  # unknown values stay
OLD_KINDS = ["recibo", "nota_fiscal", "relatorio", "outro"]
NEW_KINDS = ["receipt", "invoice", "report", "other"]


def _fill_with_old_values(connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO plans (id, name, ans_product_registration, outpatient, hospital, obstetrics, accommodation, "
            "coparticipation) VALUES (1, 'Plano', '1', true, true, false, 'enfermaria', false)"
        )
    )
    for number, relationship in enumerate(OLD_RELATIONSHIPS, start=1):
        connection.execute(
            sa.text(
                "INSERT INTO beneficiaries (id, name, card_number, birth_date, mother_name, holder_id, relationship, "
                "plan_id, status) VALUES (:id, :name, :card, '1980-01-01', 'Mãe', :holder, :relationship, 1, 'active')"
            ),
            {
                "id": number,
                "name": f"Pessoa {number}",
                "card": f"{number:012d}",
                "holder": None if number == 1 else 1,
                "relationship": relationship,
            },
        )
    for number, kind in enumerate(OLD_KINDS, start=1):
        connection.execute(
            sa.text(
                "INSERT INTO reimbursement_documents (id, beneficiary_id, conversation_id, kind, filename, "
                "content_type, size, sha256, storage_path, uploaded_at) VALUES (:id, 1, 'c', :kind, 'f.pdf', "
                "'application/pdf', 1, :sha, :path, '2026-01-01 10:00:00')"
            ),
            {"id": number, "kind": kind, "sha": "0" * 64, "path": f"uploads/reimbursements/{number}.pdf"},
        )


def _stored(engine) -> tuple[list[str], list[str]]:
    with engine.connect() as connection:
        relationships = connection.execute(sa.text("SELECT relationship FROM beneficiaries ORDER BY id")).scalars()
        kinds = connection.execute(sa.text("SELECT kind FROM reimbursement_documents ORDER BY id")).scalars()
        return list(relationships), list(kinds)


def test_0008_rewrites_relationships_and_document_kinds_both_ways(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}", var_dir=tmp_path)
    upgrade(settings, "0007")
    engine = sa.create_engine(settings.sync_database_url)
    try:
        with engine.begin() as connection:
            _fill_with_old_values(connection)
        assert _stored(engine) == (OLD_RELATIONSHIPS, OLD_KINDS)
        upgrade(settings, "0008")
        assert _stored(engine) == (NEW_RELATIONSHIPS, NEW_KINDS)
        downgrade(settings, "0007")
        assert _stored(engine) == (OLD_RELATIONSHIPS, OLD_KINDS)
    finally:
        engine.dispose()
