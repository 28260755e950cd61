"""Hearth Pastebin: pastes in PostgreSQL, sessions / view counters / rate limits in Redis."""
