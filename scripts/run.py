"""`make run`: prepare the database, start every process, print the URLs, stop on Ctrl-C."""
from __future__ import annotations

import signal
import sys
import threading

from scripts.stack import Stack


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
        f"  Rasa (REST) ......... {stack.rasa_url}/webhooks/rest/webhook\n"
        f"  servidor de ações ... http://127.0.0.1:{stack.actions_port}/health\n"
        f"  logs ................ {stack.var_dir / 'log'}/\n"
        "Ctrl-C para parar.",
        flush=True,
    )
    try:
        while not stop.wait(1):
            dead = [p.name for p in stack.processes if p.popen and p.popen.poll() is not None]
            if dead:
                print(f"Processo encerrado inesperadamente: {', '.join(dead)} (veja var/log/).", file=sys.stderr)
                return 1
    finally:
        print("\nParando...", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
