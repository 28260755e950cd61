#!/usr/bin/python3
"""hearth-pastebin-passwd [NAME]: sets the password of the account NAME (default admin),
making the account when it does not exist, and ends its sessions. Reads the password from
stdin (twice when stdin is a terminal); an empty one makes a random password, printed."""
import getpass
import re
import secrets
import sys

import psycopg2

from pastebin import config, db as dbm, passwords, store


def main():
    name = (sys.argv[1] if len(sys.argv) > 1 else "admin").lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,31}", name):
        sys.exit("hearth-pastebin-passwd: a name is 1-32 of a-z 0-9 . _ - (starting with a letter or digit)")
    if sys.stdin.isatty():
        pw = getpass.getpass(f"new password for {name} (empty: a random one): ")
        if pw and pw != getpass.getpass("again: "):
            sys.exit("hearth-pastebin-passwd: the two passwords differ")
    else:
        pw = sys.stdin.readline().rstrip("\n")
    generated = not pw
    if generated:
        pw = secrets.token_urlsafe(18)
    elif len(pw) < 10:
        sys.exit("hearth-pastebin-passwd: a password has at least 10 characters")
    dsn = config.postgres_dsn()
    dbm.migrate(dsn)
    conn = psycopg2.connect(dsn, connect_timeout=5)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO users (username, password_hash) VALUES (%s, %s) ON CONFLICT (username)"
                        " DO UPDATE SET password_hash = excluded.password_hash, password_changed_at = now() RETURNING id",
                        (name, passwords.hash_password(pw)))
            uid = cur.fetchone()[0]
    finally:
        conn.close()
    ended = store.Sessions(store.connect(config.redis_url()), ttl_user=1).delete_user(uid)
    print(f"hearth-pastebin-passwd: password of {name} set; {ended} session(s) ended")
    if generated:
        print(f"the password: {pw}")


if __name__ == "__main__":
    main()
