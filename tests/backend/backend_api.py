"""Calls to the backend API that several test modules make."""

async def request_password_reset(client, body: dict) -> tuple[int, dict]:
    """The assistant's two calls: verify the identity, then reset with the token it got.
    Returns the status and body of the first call that fails, or of the reset."""
    response = await client.post("/api/identity/verifications", json=body)
    answer = await response.json()
    if response.status != 201:
        return response.status, answer
    response = await client.post("/api/password-resets", json={
        "verification": answer["token"], "channel": body.get("channel", "rest"),
        "conversation_id": body.get("conversation_id")})
    return response.status, await response.json()
