"""Run by the start script before the web server: waits (bounded) for PostgreSQL and Redis,
migrates the schema, and makes the account 'admin' on the first start."""
import os
import secrets
import sys
import time

import psycopg2

from . import config, db as dbm, passwords, store


def say(msg):
    print(f"pastebin: {msg}", flush=True)


def wait_for(settings, dsn, redis_url):
    """Tries both every second until both answer or PASTEBIN_WAIT_SECONDS have passed."""
    deadline = time.monotonic() + settings.wait_seconds
    r = store.connect(redis_url)
    attempt = 0
    while True:
        attempt += 1
        missing = []
        try:
            conn = psycopg2.connect(dsn, connect_timeout=3, application_name="pastebin-wait")
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
            finally:
                conn.close()
        except psycopg2.Error as e:
            missing.append(f"PostgreSQL ({str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__})")
        try:
            r.ping()
        except Exception as e:  # noqa: BLE001 - any failure: not ready
            missing.append(f"Redis ({type(e).__name__}: {e})")
        if not missing:
            if attempt > 1:
                say(f"PostgreSQL and Redis answer (after {attempt} tries)")
            return
        if time.monotonic() >= deadline:
            sys.exit(f"pastebin: error: not answering after {settings.wait_seconds} s: {'; '.join(missing)}")
        if attempt == 1 or attempt % 10 == 0:
            say(f"waiting for {', '.join(m.split(' ')[0] for m in missing)}")
        time.sleep(1)


def ensure_admin(dsn, origin):
    conn = psycopg2.connect(dsn, connect_timeout=5, application_name="pastebin-init")
    try:
        with conn:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM users WHERE username = 'admin'")
                if cur.fetchone():
                    return
                password = os.environ.get("PASTEBIN_ADMIN_PASSWORD", "")
                generated = not password
                if generated:
                    password = secrets.token_urlsafe(18)
                cur.execute("INSERT INTO users (username, password_hash) VALUES ('admin', %s) ON CONFLICT (username) DO NOTHING",
                            (passwords.hash_password(password),))
                made = cur.rowcount == 1
    finally:
        conn.close()
    if not made:
        return
    if generated:
        say("============================================================")
        say(f"first start: log in at {origin or 'the app'}/login as 'admin' with the password: {password}")
        say("(change it under Account, or in the app's terminal: hearth-pastebin-passwd admin)")
        say("============================================================")
    else:
        say("first start: created the account 'admin' with the password from PASTEBIN_ADMIN_PASSWORD")


def main():
    settings = config.Settings()
    dsn = config.postgres_dsn()
    redis_url = config.redis_url()
    wait_for(settings, dsn, redis_url)
    before, now = dbm.migrate(dsn)
    if before != now:
        say(f"database schema: version {before} -> {now}")
    else:
        say(f"database schema: version {now}, up to date")
    ensure_admin(dsn, settings.origin)


if __name__ == "__main__":
    main()
