"""Code shared by the backend, the action server and the channels (no I/O here)."""
