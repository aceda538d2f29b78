"""Password policy, temporary passwords and bcrypt hashing (off the event loop)."""

from __future__ import annotations

import asyncio
import secrets
import string
from dataclasses import dataclass
from functools import lru_cache

import bcrypt

BCRYPT_MAX_BYTES = 72
TEMP_PASSWORD_LENGTH = 10
# Temporary passwords are typed from an e-mail: no look-alike characters (0/O, 1/l/I).
_LOWER = "abcdefghijkmnopqrstuvwxyz"
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_DIGITS = "23456789"
_SYMBOLS = "@#$%*!?+"
_rng = secrets.SystemRandom()


def _is_symbol(char: str) -> bool:
    return not char.isalnum() and not char.isspace()


# rule code -> check(password, value); backend/static/senha.js checks the same codes in the browser.
_CHECKS = {
    "min_length": lambda password, n: len(password) >= n,
    "max_length": lambda password, n: len(password) <= n,
    "max_bytes": lambda password, n: len(password.encode()) <= n,
    "alphanumeric": lambda password, _: all(c in string.ascii_letters + string.digits for c in password),
    "first_lowercase": lambda password, _: password[:1].islower(),
    "letter": lambda password, _: any(c.isalpha() for c in password),
    "uppercase": lambda password, _: any(c.isupper() for c in password),
    "digit": lambda password, _: any(c.isdigit() for c in password),
    "symbol": lambda password, _: any(_is_symbol(c) for c in password),
}


@dataclass(frozen=True)
class PasswordRule:
    code: str  # a key of _CHECKS
    value: int | None
    message: str  # pt-BR, shown when the rule is not met


@dataclass(frozen=True)
class PasswordPolicy:
    name: str
    description: str
    min_length: int
    max_length: int | None = None
    require_letter: bool = False
    require_uppercase: bool = False
    require_digit: bool = False
    require_symbol: bool = False
    alphanumeric_only: bool = False
    first_char_lowercase: bool = False

    def rules(self) -> list[PasswordRule]:
        """The rules of this policy, in the order their messages are shown."""
        found = [PasswordRule("min_length", self.min_length, f"Use pelo menos {self.min_length} caracteres.")]
        if self.max_length:
            found.append(PasswordRule("max_length", self.max_length, f"Use no máximo {self.max_length} caracteres."))
        found.append(
            PasswordRule("max_bytes", BCRYPT_MAX_BYTES, "A senha está longa demais: use uma senha mais curta.")
        )
        if self.alphanumeric_only:
            found.append(
                PasswordRule("alphanumeric", None, "Use só letras e números, sem símbolos, espaços ou acentos.")
            )
        if self.first_char_lowercase:
            found.append(PasswordRule("first_lowercase", None, "Comece a senha com uma letra minúscula."))
        if self.require_letter:
            found.append(PasswordRule("letter", None, "Inclua pelo menos uma letra."))
        if self.require_uppercase:
            found.append(PasswordRule("uppercase", None, "Inclua pelo menos uma letra maiúscula."))
        if self.require_digit:
            found.append(PasswordRule("digit", None, "Inclua pelo menos um número."))
        if self.require_symbol:
            found.append(PasswordRule("symbol", None, "Inclua pelo menos um símbolo (por exemplo: @, #, !)."))
        return found

    def violations(self, password: str) -> list[str]:
        """What is wrong with `password`, in pt-BR; empty when it is acceptable."""
        return [rule.message for rule in self.rules() if not _CHECKS[rule.code](password, rule.value)]

    def generate_temporary(self) -> str:
        """A random password that satisfies this policy."""
        length = max(self.min_length, min(TEMP_PASSWORD_LENGTH, self.max_length or TEMP_PASSWORD_LENGTH))
        required = [_rng.choice(_LOWER), _rng.choice(_UPPER), _rng.choice(_DIGITS)]
        pool = _LOWER + _UPPER + _DIGITS
        if self.require_symbol:
            required.append(_rng.choice(_SYMBOLS))
        if not self.alphanumeric_only:
            pool += _SYMBOLS
        rest = [_rng.choice(pool) for _ in range(length - len(required))]
        head = [required.pop(0)] if self.first_char_lowercase else []
        body = required + rest
        _rng.shuffle(body)
        return "".join(head + body)


async def hash_password(password: str, rounds: int) -> str:
    loop = asyncio.get_running_loop()
    salt = bcrypt.gensalt(rounds)
    hashed = await loop.run_in_executor(None, bcrypt.hashpw, password.encode(), salt)
    return hashed.decode()


async def verify_password(password: str, password_hash: str) -> bool:
    encoded = password.encode()
    if len(encoded) > BCRYPT_MAX_BYTES:
        return False
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, bcrypt.checkpw, encoded, password_hash.encode())


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> str:
    return bcrypt.hashpw(secrets.token_bytes(16).hex().encode(), bcrypt.gensalt(rounds)).decode()


async def burn_verification_time(rounds: int) -> None:
    """Spends what a real check costs, so an unknown login answers as slowly as a wrong password."""
    loop = asyncio.get_running_loop()
    dummy = await loop.run_in_executor(None, _dummy_hash, rounds)
    await verify_password("x", dummy)
