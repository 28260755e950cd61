"""Hearth Pastebin: the Flask app (run by gunicorn: pastebin.app:create_app())."""
import datetime as dt
import hmac
import re
import secrets

import psycopg2
import redis
from flask import Flask, abort, g, redirect, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import config, db as dbm, passwords, store

SYNTAXES = ["bash", "c", "cpp", "csharp", "css", "diff", "go", "html", "ini", "java", "javascript", "json",
            "kotlin", "lua", "markdown", "perl", "php", "python", "ruby", "rust", "sql", "swift", "toml",
            "typescript", "xml", "yaml"]
EXPIRIES = {"1d": dt.timedelta(days=1), "1w": dt.timedelta(weeks=1), "never": None}
EXPIRY_LABELS = {"1d": "1 day", "1w": "1 week", "never": "Never"}
DEFAULT_EXPIRY = "1w"
PASTE_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
COOKIE = "pastebin_session"
PAGE_SIZE = 100
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def read_secret(path):
    with open(path, "rb") as f:
        secret = f.read().strip()
    if len(secret) < 32:
        raise RuntimeError(f"{path} is too short")
    return secret


def create_app(settings=None):
    s = settings or config.Settings()
    app = Flask(__name__)
    # a pasted body may be percent-encoded (3 bytes per byte), plus the other fields
    app.config["MAX_CONTENT_LENGTH"] = 3 * s.max_paste_bytes + 16 * 1024
    app.config["TEMPLATES_AUTO_RELOAD"] = False
    database = dbm.Database(config.postgres_dsn())
    r = store.connect(config.redis_url())
    sessions = store.Sessions(r, ttl_user=s.session_days * 86400)
    views = store.Views(r)
    limits = store.RateLimiter(r, read_secret(s.secret_file))

    # ---- helpers ---------------------------------------------------------------------------

    def client_ip():
        # nginx (the only way in: the port is published on 127.0.0.1) sets both headers
        real = request.headers.get("X-Real-IP", "").strip()
        if real:
            return real
        fwd = request.headers.get("X-Forwarded-For", "")
        if fwd:
            return fwd.split(",")[-1].strip()
        return request.remote_addr or "unknown"

    def origin():
        return s.origin or request.host_url.rstrip("/")

    def session():
        if g.sess is None:
            g.sess = {"csrf": secrets.token_urlsafe(32)}
            g.sid = sessions.new_id()
            g.sess_dirty = True
        return g.sess

    def csrf_token():
        return session()["csrf"]

    def check_csrf():
        sent = request.form.get("csrf_token", "")
        want = g.sess.get("csrf", "") if g.sess else ""
        if not sent or not want or not hmac.compare_digest(sent, want):
            abort(403, "The form expired or did not come from this site: reload the page and try again.")
        o = request.headers.get("Origin")
        if o and s.origin and o != s.origin:
            abort(403, "The form did not come from this site.")

    def user():
        return g.sess.get("username") if g.sess and g.sess.get("uid") else None

    def need_login():
        if not user():
            return redirect(f"/login?next={request.path}", 303)
        return None

    def too_many(seconds, what):
        resp = app.make_response((render_template("error.html", code=429, message=f"Too many {what} from your address: try again in {fmt_wait(seconds)}."), 429))
        resp.headers["Retry-After"] = str(seconds)
        return resp

    app.jinja_env.globals.update(csrf_token=csrf_token, user=user, origin=origin)

    # ---- sessions and headers --------------------------------------------------------------

    @app.before_request
    def load_session():
        g.sid = None
        g.sess = None
        g.sess_dirty = False
        g.new_sid = False
        if request.path == "/healthz" or request.path.startswith("/static/"):
            return
        sid = request.cookies.get(COOKIE)
        if sid:
            data = sessions.load(sid)
            if data is not None:
                g.sid, g.sess = sid, data

    @app.after_request
    def save_session(resp):
        if g.get("sess_dirty") and g.sess is not None:
            ttl = sessions.save(g.sid, g.sess)
            resp.set_cookie(COOKIE, g.sid, max_age=ttl if g.sess.get("uid") else None, httponly=True,
                            secure=s.secure_cookies, samesite="Lax", path="/")
        elif g.get("sess") and g.sess.get("uid"):
            sessions.touch(g.sid, g.sess)
            resp.set_cookie(COOKIE, g.sid, max_age=sessions.ttl_user, httponly=True, secure=s.secure_cookies,
                            samesite="Lax", path="/")
        elif g.get("drop_cookie"):
            resp.delete_cookie(COOKIE, path="/", secure=s.secure_cookies, httponly=True, samesite="Lax")
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        # a paste's link is its secret: never leak it in a Referer
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.path.startswith("/static/"):
            resp.headers["Cache-Control"] = "no-store"
            resp.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
        return resp

    # ---- errors ----------------------------------------------------------------------------

    @app.errorhandler(HTTPException)
    def http_error(e):
        if isinstance(e, RequestEntityTooLarge):
            msg = f"That is too big: a paste may have at most {fmt_bytes(s.max_paste_bytes)}."
        else:
            msg = e.description if e.code in (400, 403, 404, 405, 413) else e.name
        return render_template("error.html", code=e.code, message=msg), e.code

    @app.errorhandler(psycopg2.Error)
    @app.errorhandler(redis.RedisError)
    def backend_error(e):
        app.logger.error("pastebin: %s: %s", type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else "")
        return render_template("error.html", code=503, message="The database is not answering right now: try again in a moment."), 503

    # ---- pages -----------------------------------------------------------------------------

    @app.get("/healthz")
    def healthz():
        problems = []
        try:
            database.ping()
        except Exception as e:  # noqa: BLE001 - any failure means unhealthy
            problems.append(f"postgresql: {type(e).__name__}")
        try:
            r.ping()
        except Exception as e:  # noqa: BLE001
            problems.append(f"redis: {type(e).__name__}")
        if problems:
            return {"status": "unavailable", "problems": problems}, 503
        return {"status": "ok"}, 200

    @app.get("/")
    def index():
        return render_template("index.html", syntaxes=SYNTAXES, expiries=EXPIRY_LABELS, default_expiry=DEFAULT_EXPIRY,
                               max_bytes=fmt_bytes(s.max_paste_bytes), form={})

    @app.post("/pastes")
    def create_paste():
        if (resp := need_login()) is not None:
            return resp
        check_csrf()
        ok, wait = limits.hit("create", client_ip(), s.create_limit, s.create_window)
        if not ok:
            return too_many(wait, "new pastes")
        form = {k: request.form.get(k, "") for k in ("title", "body", "syntax", "expiry")}
        title = " ".join(form["title"].split())[:200] or "Untitled"
        body = form["body"].replace("\r\n", "\n")
        syntax = form["syntax"] or None
        expiry = form["expiry"] or DEFAULT_EXPIRY
        error = None
        if not body.strip():
            error = "The paste is empty."
        elif len(body.encode("utf-8")) > s.max_paste_bytes:
            error = f"The paste is too big: at most {fmt_bytes(s.max_paste_bytes)}."
        elif syntax is not None and syntax not in SYNTAXES:
            error = "Unknown syntax."
        elif expiry not in EXPIRIES:
            error = "Unknown expiry."
        if error:
            status = 413 if "too big" in error else 400
            return render_template("index.html", syntaxes=SYNTAXES, expiries=EXPIRY_LABELS, default_expiry=DEFAULT_EXPIRY,
                                   max_bytes=fmt_bytes(s.max_paste_bytes), form=form, error=error), status
        paste_id = secrets.token_urlsafe(16)
        delta = EXPIRIES[expiry]

        def insert(cur):
            cur.execute("INSERT INTO pastes (id, title, body, syntax, expires_at, author_id)"
                        " VALUES (%s, %s, %s, %s, CASE WHEN %s::interval IS NULL THEN NULL ELSE now() + %s::interval END, %s)",
                        (paste_id, title, body, syntax, delta, delta, g.sess["uid"]))
            cur.execute("DELETE FROM pastes WHERE expires_at <= now() RETURNING id")
            return [row[0] for row in cur.fetchall()]

        views.forget(database.run(insert))
        return redirect(f"/p/{paste_id}", 303)

    def load_paste(paste_id):
        if not PASTE_ID.match(paste_id):
            abort(404, "No such paste (or it expired).")

        def q(cur):
            cur.execute("SELECT id, title, body, syntax, created_at, expires_at FROM pastes"
                        " WHERE id = %s AND (expires_at IS NULL OR expires_at > now())", (paste_id,))
            return cur.fetchone()

        row = database.run(q)
        if row is None:
            abort(404, "No such paste (or it expired).")
        return dict(zip(("id", "title", "body", "syntax", "created_at", "expires_at"), row))

    @app.get("/p/<paste_id>")
    def show_paste(paste_id):
        p = load_paste(paste_id)
        p["views"] = views.hit(p["id"], p["expires_at"])
        return render_template("paste.html", p=p, link=f"{origin()}/p/{p['id']}", fmt_time=fmt_time)

    @app.get("/p/<paste_id>/raw")
    def raw_paste(paste_id):
        p = load_paste(paste_id)
        views.hit(p["id"], p["expires_at"])
        resp = app.make_response(p["body"])
        resp.mimetype = "text/plain"
        resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return resp

    @app.post("/p/<paste_id>/delete")
    def delete_paste(paste_id):
        if (resp := need_login()) is not None:
            return resp
        check_csrf()
        if not PASTE_ID.match(paste_id):
            abort(404, "No such paste.")

        def rm(cur):
            cur.execute("DELETE FROM pastes WHERE id = %s RETURNING id", (paste_id,))
            return cur.fetchone()

        if database.run(rm) is None:
            abort(404, "No such paste.")
        views.forget([paste_id])
        return redirect("/admin", 303)

    @app.get("/admin")
    def admin():
        if (resp := need_login()) is not None:
            return resp
        try:
            page = max(1, int(request.args.get("page", "1")))
        except ValueError:
            page = 1

        def q(cur):
            cur.execute("SELECT id, title, syntax, created_at, expires_at, octet_length(body) FROM pastes"
                        " WHERE expires_at IS NULL OR expires_at > now()"
                        " ORDER BY created_at DESC, id LIMIT %s OFFSET %s", (PAGE_SIZE + 1, (page - 1) * PAGE_SIZE))
            rows = cur.fetchall()
            cur.execute("SELECT count(*) FROM pastes WHERE expires_at IS NULL OR expires_at > now()")
            return rows, cur.fetchone()[0]

        rows, total = database.run(q)
        more = len(rows) > PAGE_SIZE
        pastes = [dict(zip(("id", "title", "syntax", "created_at", "expires_at", "size"), row)) for row in rows[:PAGE_SIZE]]
        counts = views.get_many([p["id"] for p in pastes])
        for p in pastes:
            p["views"] = counts.get(p["id"], 0)
        return render_template("admin.html", pastes=pastes, total=total, page=page, more=more, fmt_time=fmt_time,
                               fmt_bytes=fmt_bytes)

    @app.get("/login")
    def login_form():
        if user():
            return redirect("/", 303)
        return render_template("login.html", next=safe_next(request.args.get("next")))

    @app.post("/login")
    def login():
        check_csrf()
        ip = client_ip()
        blocked, wait = limits.blocked("login", ip, s.login_limit)
        if blocked:
            return too_many(wait, "failed logins")
        username = request.form.get("username", "").strip().lower()
        password = request.form.get("password", "")
        nxt = safe_next(request.form.get("next"))

        def q(cur):
            cur.execute("SELECT id, username, password_hash FROM users WHERE username = %s", (username,))
            return cur.fetchone()

        row = database.run(q) if username else None
        ok = passwords.verify_password(row[2] if row else passwords.DUMMY_HASH, password) and row is not None
        if not ok:
            limits.hit("login", ip, s.login_limit, s.login_window)
            app.logger.warning("pastebin: failed login for %r from %s", username[:32], ip)
            return render_template("login.html", next=nxt, username=username, error="Wrong user name or password."), 401
        limits.reset("login", ip)
        # a new session id at login (no fixation); the old anonymous one is dropped
        if g.sid:
            sessions.delete(g.sid, g.sess)
        g.sid = sessions.new_id()
        g.sess = {"uid": row[0], "username": row[1], "csrf": secrets.token_urlsafe(32),
                  "login_at": int(dt.datetime.now(dt.timezone.utc).timestamp())}
        g.sess_dirty = True
        return redirect(nxt, 303)

    @app.post("/logout")
    def logout():
        check_csrf()
        sessions.delete(g.sid, g.sess)
        g.sess = None
        g.drop_cookie = True
        return redirect("/", 303)

    @app.get("/account")
    def account():
        if (resp := need_login()) is not None:
            return resp
        return render_template("account.html")

    @app.post("/account")
    def change_password():
        if (resp := need_login()) is not None:
            return resp
        check_csrf()
        current = request.form.get("current", "")
        new = request.form.get("new", "")
        uid = g.sess["uid"]
        row = database.run(lambda cur: (cur.execute("SELECT password_hash FROM users WHERE id = %s", (uid,)), cur.fetchone())[1])
        error = None
        if row is None or not passwords.verify_password(row[0], current):
            error = "The current password is wrong."
        elif len(new) < 10:
            error = "The new password needs at least 10 characters."
        elif new != request.form.get("confirm", ""):
            error = "The two new passwords differ."
        if error:
            return render_template("account.html", error=error), 400
        h = passwords.hash_password(new)
        database.run(lambda cur: cur.execute("UPDATE users SET password_hash = %s, password_changed_at = now() WHERE id = %s", (h, uid)))
        # every session of this user ends, this one gets a new id
        sessions.delete_user(uid)
        g.sid = sessions.new_id()
        g.sess = {**g.sess, "csrf": secrets.token_urlsafe(32)}
        g.sess_dirty = True
        return render_template("account.html", done=True)

    return app


def safe_next(nxt):
    # only paths on this site
    if nxt and nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt:
        return nxt
    return "/"


def fmt_bytes(n):
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB".replace(".0 ", " ")
    if n >= 1024:
        return f"{n / 1024:.1f} KiB".replace(".0 ", " ")
    return f"{n} bytes"


def fmt_time(t):
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if t else ""


def fmt_wait(seconds):
    if seconds >= 120:
        return f"{round(seconds / 60)} minutes"
    return f"{seconds} seconds"
