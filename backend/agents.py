"""`python -m backend.agents`: the call-centre agents who use the console /atendente.

    python -m backend.agents add <usuário> [--name "Nome Completo"]
    python -m backend.agents list
    python -m backend.agents disable <usuário>

`add` asks for the password twice without echoing it (getpass); when stdin is not a terminal
(a script, a secret manager piping it) it reads the first line of stdin instead. The password must
follow AGENT_POLICY (12+ characters with upper- and lowercase letters, a digit and a symbol; not
the username, not the demo password) and is stored as bcrypt at the cost of BCRYPT_ROUNDS.
`disable` refuses the agent's logins from then on and ends its open sessions; the agent's name
stays on the tickets it handled. The database is DATABASE_URL's, as for the backend.

The demo agent (`atendente`) exists only where the demo data was seeded (backend.seed).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import local_date, utcnow
from backend.db import create_engine, session_factory
from backend.models import Agent, AgentState, ApiSession
from backend.passwords import PasswordPolicy, hash_password
from backend.settings import Settings
from common.labels import date_text

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,59}$")
AGENT_POLICY = PasswordPolicy(
    name="agent",
    description="pelo menos 12 caracteres, com letras maiúsculas e minúsculas, número e símbolo",
    min_length=12,
    max_length=72,
    require_letter=True,
    require_uppercase=True,
    require_digit=True,
    require_symbol=True,
)
KNOWN_PASSWORDS = {"atende@2024", "senha@123456", "password@123", "atendente@2024"}


class AgentCommandError(Exception):
    """What went wrong, in pt-BR, for the operator at the terminal."""


def password_problems(username: str, password: str) -> list[str]:
    problems = AGENT_POLICY.violations(password)
    if not any(c.islower() for c in password):
        problems.append("Inclua pelo menos uma letra minúscula.")
    if username.lower() in password.lower():
        problems.append("Não use o nome de usuário na senha.")
    if password.lower() in KNOWN_PASSWORDS:
        problems.append("Essa senha é conhecida (é a da demonstração ou muito comum): escolha outra.")
    return problems


def read_password(stdin: TextIO, stderr: TextIO) -> str:
    if stdin.isatty():
        first = getpass.getpass("Senha do atendente: ", stream=stderr)
        if getpass.getpass("Repita a senha: ", stream=stderr) != first:
            raise AgentCommandError("As duas senhas não são iguais.")
        return first
    line = stdin.readline()
    return line[:-1] if line.endswith("\n") else line


async def add_agent(settings: Settings, username: str, name: str, password: str) -> None:
    if not USERNAME_RE.match(username):
        raise AgentCommandError(
            "Usuário inválido: use de 3 a 60 letras minúsculas, números, ponto, hífen ou "
            "sublinhado, começando por letra ou número."
        )
    problems = password_problems(username, password)
    if problems:
        raise AgentCommandError("Senha recusada:\n- " + "\n- ".join(problems))
    password_hash = await hash_password(password, settings.bcrypt_rounds)
    async with _session(settings) as session:
        if (await session.execute(select(Agent.id).where(Agent.username == username))).first():
            raise AgentCommandError(f"Já existe um atendente com o usuário {username}.")
        session.add(Agent(username=username, name=name.strip() or username, password_hash=password_hash))
        await session.commit()


async def list_agents(settings: Settings) -> list[Agent]:
    async with _session(settings) as session:
        return list((await session.execute(select(Agent).order_by(Agent.username))).scalars())


async def disable_agent(settings: Settings, username: str) -> None:
    async with _session(settings) as session:
        agent = (await session.execute(select(Agent).where(Agent.username == username))).scalar_one_or_none()
        if agent is None:
            raise AgentCommandError(f"Não existe atendente com o usuário {username}.")
        if agent.disabled_at is None:
            agent.disabled_at = utcnow()
        await session.execute(delete(ApiSession).where(ApiSession.agent_id == agent.id))
        await session.execute(update(AgentState).where(AgentState.agent_id == agent.id).values(last_seen_at=None))
        await session.commit()


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """An engine and a session for one command."""
    engine = create_engine(settings)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


def main(
    argv: list[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    settings: Settings | None = None,
) -> int:
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(prog="python -m backend.agents", description="Atendentes do console /atendente.")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="cria um atendente (a senha é pedida, ou lida da entrada padrão)")
    add.add_argument("username")
    add.add_argument("--name", default="", help="nome completo, mostrado no console e nos atendimentos")
    commands.add_parser("list", help="lista os atendentes")
    disable = commands.add_parser("disable", help="desativa um atendente e encerra as sessões dele")
    disable.add_argument("username")
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    try:
        if args.command == "add":
            username = args.username.strip().lower()
            password = read_password(stdin, stderr)
            asyncio.run(add_agent(settings, username, args.name or username, password))
            print(f"Atendente {username} criado.", file=stdout)
        elif args.command == "list":
            for agent in asyncio.run(list_agents(settings)):
                state = f"desativado em {date_text(local_date(agent.disabled_at))}" if agent.disabled_at else "ativo"
                print(f"{agent.username}\t{agent.name}\t{state}", file=stdout)
        else:
            asyncio.run(disable_agent(settings, args.username.strip().lower()))
            print(f"Atendente {args.username} desativado; as sessões abertas foram encerradas.", file=stdout)
    except AgentCommandError as exc:
        print(str(exc), file=stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
