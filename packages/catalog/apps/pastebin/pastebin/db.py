"""PostgreSQL: a small thread-safe pool, and the schema migrations (table schema_version)."""
import threading

import psycopg2
import psycopg2.pool

# (version, SQL): applied in order, each in one transaction with its schema_version row.
# Never edit a released step: add the next one.
MIGRATIONS = [
    (1, """
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,31}$'),
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE pastes (
  id text PRIMARY KEY,
  title text NOT NULL CHECK (length(title) <= 200),
  body text NOT NULL,
  syntax text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  author_id bigint REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX pastes_created_at ON pastes (created_at DESC);
CREATE INDEX pastes_expires_at ON pastes (expires_at) WHERE expires_at IS NOT NULL;
"""),
]
# any fixed number: serializes migrations of two containers starting at once
LOCK_KEY = 0x70617374


class Database:
    def __init__(self, dsn, maxconn=8):
        self.dsn = dsn
        self.maxconn = maxconn
        self._pool = None
        self._lock = threading.Lock()

    def _get_pool(self):
        # made lazily, in the process that uses it (gunicorn forks its workers)
        with self._lock:
            if self._pool is None:
                self._pool = psycopg2.pool.ThreadedConnectionPool(0, self.maxconn, self.dsn, connect_timeout=5,
                                                                  application_name="pastebin")
            return self._pool

    def run(self, fn):
        """fn(cursor) in one transaction. A pooled connection that broke (PostgreSQL restarted)
        is dropped and the transaction is tried once more on a new one."""
        pool = self._get_pool()
        for attempt in (1, 2):
            conn = pool.getconn()
            try:
                with conn:
                    with conn.cursor() as cur:
                        result = fn(cur)
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                pool.putconn(conn, close=True)
                if attempt == 2:
                    raise
                continue
            except BaseException:
                pool.putconn(conn)
                raise
            pool.putconn(conn)
            return result

    def ping(self):
        return self.run(lambda cur: (cur.execute("SELECT 1"), cur.fetchone()[0])[1]) == 1


def migrate(dsn):
    """Brings the schema to the newest version; returns (version before, version after)."""
    conn = psycopg2.connect(dsn, connect_timeout=5, application_name="pastebin-migrate")
    try:
        with conn:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                cur.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                            " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
                cur.execute("SELECT coalesce(max(version), 0) FROM schema_version")
                before = cur.fetchone()[0]
                now = before
                for version, sql in MIGRATIONS:
                    if version <= before:
                        continue
                    cur.execute(sql)
                    cur.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
                    now = version
                if before > MIGRATIONS[-1][0]:
                    raise RuntimeError(f"the database is at schema version {before}, newer than this app "
                                       f"({MIGRATIONS[-1][0]}): was it made by a newer Pastebin?")
        return before, now
    finally:
        conn.close()
