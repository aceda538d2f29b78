"""Plan-system backend: the operator's data and services behind the assistant (aiohttp + SQLAlchemy)."""
