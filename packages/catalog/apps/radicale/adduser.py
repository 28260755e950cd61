#!/usr/bin/python3
"""hearth-radicale-user NAME [PASSWORD]: adds a Radicale user or sets its password.

Without PASSWORD, reads it from stdin (one line). Writes /app/data/users (bcrypt htpasswd).
Run it in the app's terminal: `hearth-radicale-user alice`.
"""
import os
import sys
import tempfile

import bcrypt

USERS = os.environ.get("RADICALE_USERS_FILE", "/app/data/users")


def main() -> int:
    if len(sys.argv) not in (2, 3) or ":" in sys.argv[1] or not sys.argv[1].strip():
        print(__doc__.strip(), file=sys.stderr)
        return 2
    name = sys.argv[1]
    password = sys.argv[2] if len(sys.argv) == 3 else sys.stdin.readline().rstrip("\n")
    if not password:
        print("hearth-radicale-user: empty password", file=sys.stderr)
        return 2
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    lines = []
    if os.path.exists(USERS):
        with open(USERS, encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith(name + ":")]
    lines.append(f"{name}:{hashed}")
    d = os.path.dirname(USERS) or "."
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".users.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(tmp, 0o640)
    if os.getuid() == 0:
        import pwd
        pw = pwd.getpwnam("radicale")
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
    os.replace(tmp, USERS)
    print(f"hearth-radicale-user: saved the password of {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
