import asyncio

import bcrypt
import pytest
from backend_api import AMS_REFUSALS, CASSE_REFUSALS

from backend.operator_profile import load_profile
from backend.passwords import hash_password, verify_password
from backend.settings import Settings, SettingsError

CASSE = load_profile("demo").password_policy
AMS = load_profile("ams").password_policy


@pytest.mark.parametrize("password", ["Saude@2024", "abc123!@", "çãoÁ1#xy", "8chars!A1"])
def test_casse_accepts(password):
    assert CASSE.violations(password) == []


@pytest.mark.parametrize("password, expected", CASSE_REFUSALS)
def test_casse_rejects(password, expected):
    assert expected in CASSE.violations(password)


@pytest.mark.parametrize("password", ["aB3cdef", "mAria1", "zzzzzZ9z"])
def test_ams_accepts(password):
    assert AMS.violations(password) == []


@pytest.mark.parametrize("password, expected", AMS_REFUSALS)
def test_ams_rejects(password, expected):
    assert expected in AMS.violations(password)


@pytest.mark.parametrize("policy", [CASSE, AMS], ids=["casse", "ams"])
def test_temporary_passwords_always_satisfy_the_policy(policy):
    samples = {policy.generate_temporary() for _ in range(200)}
    assert all(policy.violations(p) == [] for p in samples)
    assert len(samples) == 200


def test_bcrypt_rounds_below_12_are_refused(tmp_path):
    with pytest.raises(SettingsError):
        Settings.from_env({"VAR_DIR": str(tmp_path), "BCRYPT_ROUNDS": "10"})


def test_hash_has_cost_12_and_does_not_block_the_loop():
    async def scenario():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        hashed = await hash_password("Saude@2024", 12)
        task.cancel()
        return hashed, ticks, await verify_password("Saude@2024", hashed), await verify_password("x" * 80, hashed)

    hashed, ticks, ok, too_long = asyncio.run(scenario())
    assert hashed.startswith("$2b$12$") and bcrypt.checkpw(b"Saude@2024", hashed.encode())
    assert ticks >= 5, "the event loop was blocked while hashing"
    assert ok and not too_long
