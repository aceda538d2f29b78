"""The bot's only way to the backend: typed wrappers, one module per resource (identity, plan,
card, billing, statements, network, reimbursements, protocols, handoffs, operator, and the account
flows), over the one HTTP client (client.py).

Each wrapper takes typed arguments — a `Caller` for what a verified conversation asks — and returns
a frozen dataclass or a `Refusal` (code, message, status, data) when the backend said no; the
refusal's message is the backend's own wording. `BackendUnavailable` when it could not answer.
"""

from bot.backend.client import BackendUnavailable
from bot.backend.common import Caller, Refusal

__all__ = ["BackendUnavailable", "Caller", "Refusal"]
