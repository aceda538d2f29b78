"""The files users send are kept in the database (backend.uploads, table file_blobs), not on the disk
of the backend that received them: several backend processes, on several machines behind the load
balancer, share only the database. SQLite always, PostgreSQL when TEST_DATABASE_URL is set (the
`settings` fixture; the migration test makes its own throw-away database)."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
from datetime import timedelta

import pytest
import pytest_asyncio
import sqlalchemy as sa
from backend_api import MARIA, service_client, verify
from postgres_support import fresh_database
from sqlalchemy import func, select

from backend.api.context import SESSIONS, SETTINGS
from backend.app import create_app
from backend.clock import local_today
from backend.migrate import downgrade, upgrade
from backend.models import FileBlob, InboundFile, ReimbursementDocument
from backend.refusals import Refused
from backend.settings import Settings
from backend.uploads import read_stored, store_stream
from common.uploads import MAX_UPLOAD_BYTES, REFUSAL_TEXTS

PG_URL = os.environ.get("TEST_DATABASE_URL")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest_asyncio.fixture
async def backends(settings, tmp_path):
    """Two backend apps built from the same DATABASE_URL, each with a VAR_DIR of its own (two
    machines): what one receives, the other must serve."""
    clients = []
    for name in ("a", "b"):
        var_dir = tmp_path / f"machine-{name}"
        var_dir.mkdir()
        client = service_client(create_app(dataclasses.replace(settings, var_dir=var_dir)))
        await client.start_server()
        clients.append(client)
    yield clients
    for client in clients:
        await client.close()


def headers(token: str) -> dict:
    return {"X-Verification": token, "X-Conversation-Id": MARIA["conversation_id"], "X-Channel": "rest"}


async def receive(client, content, filename: str = "recibo.pdf") -> tuple[int, dict]:
    """What a channel does with a file a user sent (POST /api/inbound-files)."""
    response = await client.post(
        "/api/inbound-files",
        data=content,
        params={"filename": filename},
        headers={"X-Conversation-Id": MARIA["conversation_id"], "X-Channel": "rest"},
    )
    return response.status, await response.json()


async def attach(client, token: str, file_id: str) -> dict:
    response = await client.post(
        "/api/reimbursement-documents", json={"file_id": file_id, "kind": "receipt"}, headers=headers(token)
    )
    body = await response.json()
    assert response.status == 201, body
    return body


async def stored_bytes(client, document_id: int) -> bytes | None:
    """The bytes of a document, read through this app's own database sessions."""
    async with client.server.app[SESSIONS]() as session:
        document = await session.get(ReimbursementDocument, document_id)
        return await read_stored(session, document.storage_path)


async def blob_count(client) -> int:
    async with client.server.app[SESSIONS]() as session:
        return (await session.execute(select(func.count()).select_from(FileBlob))).scalar_one()


def nothing_on_disk(client) -> bool:
    return not (client.server.app[SETTINGS].var_dir / "uploads").exists()


@pytest.mark.asyncio
async def test_a_file_received_by_one_backend_is_served_by_another(backends):
    machine_a, machine_b = backends
    token = await verify(machine_b, MARIA)

    status, received = await receive(machine_a, PDF, filename="recibo consulta.pdf")  # the channel hit A
    assert status == 201, received
    document = await attach(machine_b, token, received["id"])  # the action hit B
    assert (document["filename"], document["size"], document["pending_count"]) == ("recibo consulta.pdf", len(PDF), 1)
    assert await stored_bytes(machine_b, document["id"]) == PDF
    assert await stored_bytes(machine_a, document["id"]) == PDF
    async with machine_a.server.app[SESSIONS]() as session:
        row = await session.get(ReimbursementDocument, document["id"])
        blob = (
            await session.execute(select(FileBlob.sha256, FileBlob.size).where(FileBlob.id == row.storage_path))
        ).one()
    assert tuple(blob) == (hashlib.sha256(PDF).hexdigest(), len(PDF))

    listed = await (await machine_a.get("/api/reimbursement-documents", headers=headers(token))).json()
    assert [item["id"] for item in listed["documents"]] == [document["id"]]
    today = local_today()
    response = await machine_a.post(
        "/api/reimbursements",
        json={
            "verification": token,
            "conversation_id": MARIA["conversation_id"],
            "channel": "rest",
            "provider_name": "Clínica Bem Viver",
            "provider_document": "11.222.333/0001-81",
            "service_date": f"{today - timedelta(days=3):%d/%m/%Y}",
            "description": "Consulta com cardiologista",
            "amount": "R$ 250,00",
            "document_ids": [document["id"]],
        },
    )
    request = await response.json()
    assert response.status == 201, request
    assert [item["id"] for item in request["reimbursement"]["documents"]] == [document["id"]]
    assert await stored_bytes(machine_b, document["id"]) == PDF  # the request's receipt, still there

    assert nothing_on_disk(machine_a) and nothing_on_disk(machine_b)


@pytest.mark.asyncio
async def test_deleting_a_document_on_another_backend_deletes_its_bytes(backends):
    machine_a, machine_b = backends
    token = await verify(machine_a, MARIA)
    _, kept = await receive(machine_a, PDF)
    _, dropped = await receive(machine_b, PNG, filename="foto.png")
    kept_document = await attach(machine_a, token, kept["id"])
    dropped_document = await attach(machine_a, token, dropped["id"])
    assert await blob_count(machine_a) == 2
    async with machine_a.server.app[SESSIONS]() as session:
        dropped_key = (await session.get(ReimbursementDocument, dropped_document["id"])).storage_path

    response = await machine_b.delete(f"/api/reimbursement-documents/{dropped_document['id']}", headers=headers(token))
    assert response.status == 204
    assert await blob_count(machine_a) == 1
    async with machine_a.server.app[SESSIONS]() as session:
        assert await read_stored(session, dropped_key) is None
    assert await stored_bytes(machine_a, kept_document["id"]) == PDF  # the other one stays
    assert nothing_on_disk(machine_a) and nothing_on_disk(machine_b)


@pytest.mark.asyncio
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_file_over_the_limit_is_refused_with_the_same_code_and_nothing_is_stored(backends, chunked):
    machine_a, _ = backends
    too_big = PDF + b"0" * MAX_UPLOAD_BYTES

    async def stream():
        for start in range(0, len(too_big), 1024 * 1024):
            yield too_big[start : start + 1024 * 1024]

    status, body = await receive(machine_a, stream() if chunked else too_big)
    assert status == 413
    assert body["error"] == {
        "code": "file_too_large",
        "message": REFUSAL_TEXTS["file_too_large"],
        "max_bytes": MAX_UPLOAD_BYTES,
    }
    assert await blob_count(machine_a) == 0 and nothing_on_disk(machine_a)
    async with machine_a.server.app[SESSIONS]() as session:
        assert (await session.execute(select(func.count()).select_from(InboundFile))).scalar_one() == 0


@pytest.mark.asyncio
async def test_the_stream_is_read_no_further_than_the_limit():
    """A sender that goes on and on costs at most the limit: reading stops at the first chunk past
    it, before anything reaches the database."""
    read = []

    async def long_stream():
        yield PDF
        for _ in range(1000):  # 1 MB, far past the limit (finite, should the limit ever go)
            read.append(1)
            yield b"0" * 1000

    class NoDatabase:
        def add(self, _row):
            raise AssertionError("a refused file reached the session")

    with pytest.raises(Refused) as refused:
        await store_stream(NoDatabase(), long_stream(), max_bytes=10_000)
    assert refused.value.code == "file_too_large"
    assert len(read) == 10  # 45 + 9 * 1000 bytes fit, the 10th chunk does not


# --- migration 0011: files already on the disk move into the table --------------------------------


@contextlib.contextmanager
def _database(kind: str, tmp_path):
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with fresh_database(PG_URL, "file_store_migration") as url:
        yield url


def _fill_before_0011(connection, var_dir) -> dict[str, bytes]:
    """A beneficiary, an inbound file and two documents as the backend stored them before 0011 (one
    whose file is gone), and a file no row points to; returns what is on the disk."""
    connection.execute(
        sa.text(
            "INSERT INTO plans (id, name, ans_product_registration, outpatient, hospital, obstetrics, accommodation, "
            "coparticipation) VALUES (1, 'Plano', '1', true, true, false, 'enfermaria', false)"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO beneficiaries (id, name, card_number, birth_date, mother_name, relationship, plan_id, status) "
            "VALUES (1, 'Pessoa', '000000000001', '1980-01-01', 'Mãe', 'holder', 1, 'active')"
        )
    )
    files = {"uploads/inbound/aaa.pdf": PDF, "uploads/inbound/bbb.png": PNG, "uploads/inbound/orfao.pdf": b"%PDF-x"}
    for relative, content in files.items():
        (var_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (var_dir / relative).write_bytes(content)
    connection.execute(
        sa.text(
            "INSERT INTO inbound_files (id, channel, conversation_id, filename, content_type, size, sha256, "
            "storage_path, created_at) VALUES ('f1', 'rest', 'c', 'recibo.pdf', 'application/pdf', :size, :sha, "
            "'uploads/inbound/aaa.pdf', '2026-01-02 10:00:00')"
        ),
        {"size": len(PDF), "sha": hashlib.sha256(PDF).hexdigest()},
    )
    for number, path in ((1, "uploads/inbound/bbb.png"), (2, "uploads/inbound/sumiu.pdf")):
        connection.execute(
            sa.text(
                "INSERT INTO reimbursement_documents (id, beneficiary_id, conversation_id, kind, filename, "
                "content_type, size, sha256, storage_path, uploaded_at) VALUES (:id, 1, 'c', 'receipt', 'f', "
                "'image/png', 1, :sha, :path, '2026-01-03 10:00:00')"
            ),
            {"id": number, "sha": "0" * 64, "path": path},
        )
    return files


def _paths(engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, storage_path FROM inbound_files")).all()
        rows += connection.execute(sa.text("SELECT 'd' || id, storage_path FROM reimbursement_documents")).all()
        return dict(rows)


@pytest.mark.parametrize(
    "kind",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="set TEST_DATABASE_URL"))],
)
def test_0011_moves_the_files_on_disk_into_the_table_and_back(kind, tmp_path):
    with _database(kind, tmp_path) as url:
        settings = Settings(database_url=url, var_dir=tmp_path)
        upgrade(settings, "0010")
        engine = sa.create_engine(settings.sync_database_url)
        try:
            with engine.begin() as connection:
                files = _fill_before_0011(connection, tmp_path)

            upgrade(settings, "0011")
            paths = _paths(engine)
            assert paths["d2"] == "uploads/inbound/sumiu.pdf"  # its bytes were lost before: left as it was
            with engine.connect() as connection:
                blobs = {
                    row.id: row
                    for row in connection.execute(
                        sa.text("SELECT id, sha256, size, content_type, created_at, content FROM file_blobs")
                    )
                }
            assert set(blobs) == {paths["f1"], paths["d1"]}
            for key, content, content_type in ((paths["f1"], PDF, "application/pdf"), (paths["d1"], PNG, "image/png")):
                blob = blobs[key]
                assert bytes(blob.content) == content and blob.size == len(content)
                assert blob.sha256 == hashlib.sha256(content).hexdigest() and blob.content_type == content_type
            assert str(blobs[paths["f1"]].created_at).startswith("2026-01-02 10:00:00")  # the file's own time
            assert not (tmp_path / "uploads/inbound/aaa.pdf").exists()  # moved: gone from the disk
            assert not (tmp_path / "uploads/inbound/bbb.png").exists()
            assert (tmp_path / "uploads/inbound/orfao.pdf").read_bytes() == files["uploads/inbound/orfao.pdf"]

            downgrade(settings, "0010")
            paths = _paths(engine)
            assert (tmp_path / paths["f1"]).read_bytes() == PDF and paths["f1"].startswith("uploads/inbound/")
            assert (tmp_path / paths["d1"]).read_bytes() == PNG and paths["d1"].endswith(".png")
            assert not sa.inspect(engine).has_table("file_blobs")
            upgrade(settings, "0011")  # and up again
            with engine.connect() as connection:
                contents = connection.execute(sa.text("SELECT content FROM file_blobs")).scalars().all()
            assert sorted(bytes(content) for content in contents) == sorted([PDF, PNG])
        finally:
            engine.dispose()
