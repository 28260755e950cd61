"""Settings from the environment (HEARTH_* from Hearth's addons, PASTEBIN_* from the admin)."""
import os
import sys
from urllib.parse import quote


def _int(name, default, lo, hi):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        v = int(raw)
    except ValueError:
        sys.exit(f"pastebin: error: {name} must be a whole number, not {raw!r}")
    if not lo <= v <= hi:
        sys.exit(f"pastebin: error: {name} must be between {lo} and {hi}, not {v}")
    return v


def postgres_dsn():
    url = os.environ.get("HEARTH_POSTGRESQL_URL", "")
    if url:
        return url
    need = ["HEARTH_POSTGRESQL_HOST", "HEARTH_POSTGRESQL_USERNAME", "HEARTH_POSTGRESQL_PASSWORD", "HEARTH_POSTGRESQL_DATABASE"]
    if not all(os.environ.get(k) for k in need):
        sys.exit("pastebin: error: no PostgreSQL settings (HEARTH_POSTGRESQL_URL): the app needs the postgresql addon")
    e = os.environ
    return (f"postgresql://{quote(e['HEARTH_POSTGRESQL_USERNAME'], safe='')}:{quote(e['HEARTH_POSTGRESQL_PASSWORD'], safe='')}"
            f"@{e['HEARTH_POSTGRESQL_HOST']}:{e.get('HEARTH_POSTGRESQL_PORT', '5432')}/{quote(e['HEARTH_POSTGRESQL_DATABASE'], safe='')}")


def redis_url():
    url = os.environ.get("HEARTH_REDIS_URL", "")
    if url:
        return url
    e = os.environ
    if not e.get("HEARTH_REDIS_HOST"):
        sys.exit("pastebin: error: no Redis settings (HEARTH_REDIS_URL): the app needs the redis addon")
    auth = f"default:{quote(e['HEARTH_REDIS_PASSWORD'], safe='')}@" if e.get("HEARTH_REDIS_PASSWORD") else ""
    return f"redis://{auth}{e['HEARTH_REDIS_HOST']}:{e.get('HEARTH_REDIS_PORT', '6379')}/0"


class Settings:
    def __init__(self):
        self.origin = os.environ.get("HEARTH_APP_ORIGIN", "").rstrip("/")
        self.secure_cookies = self.origin.startswith("https://")
        # a paste's body, in bytes of UTF-8
        self.max_paste_bytes = _int("PASTEBIN_MAX_PASTE_BYTES", 512 * 1024, 1024, 16 * 1024 * 1024)
        # pastes one client address may create per window
        self.create_limit = _int("PASTEBIN_CREATE_LIMIT", 30, 1, 100000)
        self.create_window = _int("PASTEBIN_CREATE_WINDOW", 3600, 10, 86400 * 7)
        # failed logins one client address may make per window
        self.login_limit = _int("PASTEBIN_LOGIN_LIMIT", 10, 1, 100000)
        self.login_window = _int("PASTEBIN_LOGIN_WINDOW", 900, 10, 86400)
        self.session_days = _int("PASTEBIN_SESSION_DAYS", 14, 1, 365)
        self.wait_seconds = _int("PASTEBIN_WAIT_SECONDS", 90, 1, 3600)
        self.secret_file = os.environ.get("PASTEBIN_SECRET_FILE", "/app/data/secret.key")
