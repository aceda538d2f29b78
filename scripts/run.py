"""`make run`: prepare the database, start every process, print the URLs, stop on Ctrl-C.

While it runs, the stack's supervisor (scripts.stack.Supervisor) restarts a process that exits
unexpectedly (the others keep serving meanwhile) and prints, here and in var/log/supervisor.log,
each exit, restart, degradation and recovery. Only Ctrl-C (or SIGTERM) stops it all."""

from __future__ import annotations

import os
import signal
import sys
import threading

from common.local_secrets import SECRETS, secrets_dir
from scripts.stack import Stack


def secrets_note() -> str:
    """Where the secrets are and which came from the environment; never their values."""
    from_env = [name for name in SECRETS if os.environ.get(name)]
    note = "um arquivo por segredo, modo 0600, nunca impresso"
    return f"{note}; do ambiente: {', '.join(from_env)}" if from_env else note


def main() -> int:
    stack = Stack()
    stack.prepare_database()
    print("Iniciando backend, servidor de ações e Rasa (a primeira carga do modelo leva ~30 s)...", flush=True)
    stack.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(
        "\nAssistente no ar:\n"
        f"  API do backend ...... {stack.backend_url}/api/health\n"
        f"  Rasa (REST) ......... {stack.rasa_url}/webhooks/rest/webhook"
        f"{' (Authorization: Bearer $REST_CHANNEL_TOKEN)' if os.environ.get('REST_CHANNEL_TOKEN') else ''}\n"
        f"  servidor de ações ... {stack.actions_url}/health\n"
        f"  saúde ............... {stack.backend_url}/api/health, {stack.actions_url}/health, "
        f"{stack.rasa_url}{stack.rasa_health_path} (200 = normal, 503 = degradado)\n"
        f"  logs ................ {stack.var_dir / 'log'}/\n"
        f"  supervisão .......... reinicia quem cair (1 s, 2 s, 4 s... até 30 s); eventos aqui e em "
        f"{stack.var_dir / 'log' / 'supervisor.log'}\n"
        f"  segredos ............ {secrets_dir(stack.var_dir)}/ ({secrets_note()})\n"
        "  API HTTP do Rasa .... exige ?token=<RASA_TOKEN>; servidor de ações, o ACTION_SERVER_TOKEN\n"
        "Ctrl-C para parar.",
        flush=True,
    )
    try:
        stop.wait()  # the supervisor keeps the processes up meanwhile
    finally:
        print("\nParando...", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
