"""Password hashes: scrypt (hashlib), stored as scrypt$N$r$p$salt$hash (base64)."""
import base64
import hashlib
import hmac
import os

N, R, P = 2 ** 14, 8, 1


def _b64(b):
    return base64.b64encode(b).decode("ascii")


def hash_password(password):
    salt = os.urandom(16)
    h = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(h)}"


def verify_password(stored, password):
    try:
        kind, n, r, p, salt, want = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=64 * 1024 * 1024, dklen=len(base64.b64decode(want)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(want))


# hashed once, compared against when the user does not exist (same time either way)
DUMMY_HASH = hash_password(base64.b64encode(os.urandom(12)).decode())
