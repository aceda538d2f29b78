"""Web pages served by the backend (account activation, password change, e-mail confirmation)."""
