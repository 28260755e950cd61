"""Redis: server-side login sessions, per-paste view counters, per-client rate limits."""
import hashlib
import hmac
import json
import secrets

import redis

P = "pastebin:"


def connect(url):
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30,
                                decode_responses=True)


class Sessions:
    """A session is a JSON object under pastebin:session:<id>, with a TTL; the cookie holds only
    the id. A user's session ids are in pastebin:user-sessions:<user id> so a password change
    can end them all."""

    def __init__(self, r, ttl_user, ttl_anon=3600):
        self.r = r
        self.ttl_user = ttl_user
        self.ttl_anon = ttl_anon

    @staticmethod
    def new_id():
        return secrets.token_urlsafe(32)

    @staticmethod
    def valid_id(sid):
        return bool(sid) and 20 <= len(sid) <= 64 and all(c.isalnum() or c in "-_" for c in sid)

    def load(self, sid):
        if not self.valid_id(sid):
            return None
        raw = self.r.get(P + "session:" + sid)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def save(self, sid, data):
        ttl = self.ttl_user if data.get("uid") else self.ttl_anon
        pipe = self.r.pipeline()
        pipe.set(P + "session:" + sid, json.dumps(data), ex=ttl)
        if data.get("uid"):
            key = P + f"user-sessions:{data['uid']}"
            pipe.sadd(key, sid)
            pipe.expire(key, self.ttl_user)
        pipe.execute()
        return ttl

    def touch(self, sid, data):
        """Slides a logged-in session's expiry."""
        pipe = self.r.pipeline()
        pipe.expire(P + "session:" + sid, self.ttl_user)
        pipe.expire(P + f"user-sessions:{data['uid']}", self.ttl_user)
        pipe.execute()

    def delete(self, sid, data=None):
        pipe = self.r.pipeline()
        pipe.delete(P + "session:" + sid)
        if data and data.get("uid"):
            pipe.srem(P + f"user-sessions:{data['uid']}", sid)
        pipe.execute()

    def delete_user(self, uid):
        key = P + f"user-sessions:{uid}"
        sids = self.r.smembers(key)
        pipe = self.r.pipeline()
        for sid in sids:
            pipe.delete(P + "session:" + sid)
        pipe.delete(key)
        pipe.execute()
        return len(sids)


class Views:
    def __init__(self, r):
        self.r = r

    def hit(self, paste_id, expires_at=None):
        key = P + "views:" + paste_id
        pipe = self.r.pipeline()
        pipe.incr(key)
        if expires_at is not None:
            # seconds since the epoch: redis-py would read a datetime as local time
            pipe.expireat(key, int(expires_at.timestamp()))
        return pipe.execute()[0]

    def get_many(self, ids):
        if not ids:
            return {}
        vals = self.r.mget([P + "views:" + i for i in ids])
        return {i: int(v or 0) for i, v in zip(ids, vals)}

    def forget(self, ids):
        if ids:
            self.r.delete(*[P + "views:" + i for i in ids])


class RateLimiter:
    """Fixed windows per (action, client): the counter key lives for the window. Client
    addresses are stored as an HMAC with the app's secret, never in the clear."""

    def __init__(self, r, secret):
        self.r = r
        self.secret = secret

    def _key(self, action, client):
        digest = hmac.new(self.secret, client.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
        return f"{P}rate:{action}:{digest}"

    def hit(self, action, client, limit, window):
        """Counts one attempt; returns (allowed, seconds until the window ends)."""
        key = self._key(action, client)
        pipe = self.r.pipeline()
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
        pipe.ttl(key)
        _, count, ttl = pipe.execute()
        return count <= limit, max(int(ttl), 1)

    def blocked(self, action, client, limit):
        key = self._key(action, client)
        pipe = self.r.pipeline()
        pipe.get(key)
        pipe.ttl(key)
        count, ttl = pipe.execute()
        return int(count or 0) >= limit, max(int(ttl), 1)

    def reset(self, action, client):
        self.r.delete(self._key(action, client))
