#!/usr/bin/env python3
"""Hostile-input campaign against a running Latchkey server.

Sends at least N requests (default 100,000) from 16 threads over persistent keep-alive
connections to every family of endpoints the server answers on:

  * the protocol endpoints: discovery and authorization-server metadata, JWKS, authorize
    (GET, POST and its resumption), token (every grant type and every way of
    authenticating a client), introspection, revocation, userinfo, RP-initiated logout;
  * the REST API /api/v1 (every route of its table, with every method it mounts);
  * the portal's pages (every route, with and without a signed-in session), its static
    files and the audit export link;
  * the portal's server functions POSTed to /api/<endpoint> (all 32 of them);
  * /healthz, /readyz and /metrics.

Every request starts from a valid template, filled with real credentials fetched before the
campaign (a client-credentials access token, a user's access, refresh and ID tokens, signed-in
portal sessions and their CSRF tokens, codes from real authorization requests, pending
consent requests, apps, users and APIs created for the purpose), so that most mutations
get past the first checks and reach deep code. Then, most of the time, it is mutated:
parameters dropped, duplicated, renamed or replaced by random bytes, strings up to 300 KB
(beyond the 256 KB body limit, sometimes), unicode, NUL, CRLF, SQL and HTML injection,
out-of-range numbers, empty values; JWTs with flipped characters in each part, alg none,
HS256 forgeries, tampered claims; garbage Basic credentials; wrong or missing
Content-Type; malformed percent-encoding and JSON; invalid UTF-8; random HTTP methods;
forged X-Forwarded-For, Forwarded and Host headers; garbage cookies; traversal and
oversized ids in paths. Every random choice comes from `random.Random` seeded with --seed
(one stream per worker), so a run's templates and mutations are reproducible; the values
taken from the server's answers (tokens, ids, cookies) differ from run to run, which is why
--failures keeps each failing request in full and --replay sends them again.

The requests are spread over the families by weight: protocol endpoints about 44 % (token
endpoint 20 %, authorize and its resumption 7.5 %, introspection and revocation 6.5 %,
userinfo 4 %, logout 3 %, metadata and JWKS 3 %), REST API 24 %, server functions 18 %,
pages 9 %, static files and unknown paths 2.5 %, /healthz, /readyz and /metrics 2.5 %.

What a clean run proves: across that many hostile requests, the server answered every one
with a status below 500, and never hung up, reset a connection or stalled past the
timeout (10 s) -- the symptoms of a panic in a handler, an unhandled error mapped to 500,
a deadlock or a lost wakeup. 429 (rate limits), 408 (the server's own request timeout)
and every other 4xx are accepted: this campaign does not judge whether a refusal is the
right one, only that hostile input is refused rather than crashing or erroring the server.
(A connection closed while sending a body past the 256 KB limit, or a request line whose
method is not an HTTP token or whose target holds a space or control character, is allowed too: that is how an HTTP server refuses to read
it; those are counted apart.)

Run it through benches/campaign.sh, which starts a fresh server and creates the apps and
users, or by hand against a running server:

    python3 benches/campaign.py --base http://127.0.0.1:3000 \\
        --client-id ID --client-secret SECRET \\
        --user-client-id ID2 --user-client-secret SECRET2 \\
        --email member@example.com --password 'their password' \\
        [--admin-email admin@example.com --admin-password '...'] [--requests 100000] [--seed 1]

Replay the failures of a run (headers and bodies as recorded; session cookies and tokens in
them may have expired since):

    python3 benches/campaign.py --base http://127.0.0.1:3000 --replay failures.jsonl

Prints one summary line, `campaign: <total> requests, <2xx> 2xx, <3xx> 3xx, <4xx> 4xx,
<5xx> 5xx, <broken> broken, <secs> s`, then up to 20 example lines for 5xx answers and for
broken ones (`5xx: METHOD PATH (status) body-prefix`); --failures FILE writes each failing
request in full (headers, body in base64) as JSON lines for exact reproduction. Exits 1 when
any answer was 5xx or broken, 2 when the credentials cannot be obtained, else 0.

When the server listens on loopback, each worker connects from its own 127.x.y.z address
and changes address every few hundred requests, so the per-address sign-in throttle (which
no setting lifts) does not turn every later sign-in attempt into the same cheap refusal;
the credentials are fetched again from 127.0.0.1 every few thousand requests, since the
campaign itself revokes tokens, signs sessions out and rotates refresh tokens.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import hmac
import http.client
import itertools
import json
import random
import re
import socket
import string
import sys
import threading
import time
import traceback
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

# The server's limits this campaign aims at and around.
BODY_LIMIT = 256 * 1024  # RequestBodyLimitLayer in src/server/router.rs
OVERSIZE = 300 * 1024  # the longest value sent: past the body limit
PARAM_LIMIT = 8 * 1024  # MAX_PARAM_LEN of the protocol endpoints' parameters

REFRESH_EVERY = 2500  # campaign requests between two fetches of the credentials
ROTATE_EVERY = 300  # requests a worker sends from one source address
UA = "latchkey-campaign/1"
SESSION_COOKIE = "latchkey_session"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
REDIRECT_URI = "http://127.0.0.1:8765/cb"
POST_LOGOUT_URI = "http://127.0.0.1:8765/bye"
USER_SCOPE = "openid email offline_access"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SACRIFICIAL_PASSWORD = "sacrificial password 0123456789"

# Responses of the server may echo hostile input at length: read them whatever their size,
# so that a long header line is not mistaken for a broken answer.
http.client._MAXLINE = 1 << 22  # type: ignore[attr-defined]
http.client._MAXHEADERS = 10_000  # type: ignore[attr-defined]

ALNUM = string.ascii_letters + string.digits
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # a valid header name (RFC 9110 token)
PKCE_CHARS = ALNUM + "-._~"

# ----------------------------------------------------------------------------------------
# Hostile values
# ----------------------------------------------------------------------------------------

HOSTILE = [
    # empty, blank, literals
    "", " ", "\t", "  \n ", "0", "1", "-1", "true", "false", "null", "None", "undefined",
    "NaN", "Infinity", "-Infinity", "[]", "{}", '{"a":1}', "[[[[[[[[]]]]]]]]",
    # numbers out of range
    "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "18446744073709551616", "4294967296", "2147483648", "-2147483649", "1e308", "1e309",
    "-0", "0x7fffffff", "1.5", "1,5", "99999999999999999999999999999999999999", "00000001",
    "+1", "1_000", "١٢٣",
    # SQL injection
    "'", '"', "`", "\\", "' OR '1'='1", "' OR 1=1 --", "'; DROP TABLE users; --",
    "1; SELECT pg_sleep(30) --", "' AND randomblob(1000000000) --", '" OR ""="', "admin'--",
    "%' AND 1=0 UNION SELECT NULL, NULL --", "1) OR (1=1", "'||(SELECT sqlite_version())||'",
    # HTML, templates, lookups
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "{{7*7}}", "${7*7}", "<%= 7*7 %>",
    "${jndi:ldap://127.0.0.1/a}", "<!--", "]]>", "&amp;", "&#0;",
    # paths and URLs
    "../../../../etc/passwd", "..\\..\\..\\windows\\win.ini", "/etc/passwd", "file:///etc/passwd",
    "//evil.example", "/\\evil.example", "\\\\evil.example", "http://evil.example/cb",
    "https://evil.example", "http://127.0.0.1:8765/cb#frag", "http://127.0.0.1:8765/cb?x=1",
    "http://127.0.0.1:8765/cb/../admin", "HTTP://127.0.0.1:8765/CB", "http://127.0.0.1:8765/cb ",
    "http://user:pw@127.0.0.1:8765/cb", "http://[::1]:8765/cb", "http://127.0.0.1:99999/cb",
    "http://localhost:8765/cb", "myapp://cb", "urn:x", "/", "//", "/admin", "/oauth2/authorize/resume?id=x",
    # control characters and encodings
    "\x00", "a\x00b", "\r\n", "a\r\nSet-Cookie: x=y", "\n", "\x7f", "\x1b[31m", "%00", "%0d%0a",
    "%", "%%", "%zz", "%C3%28", "%ED%A0%80", "%FF", "+", "&", "=", "&=&=", "a=b", ";", ",",
    "a[b]=c", "a[]", "a]", "[", "q[", "x[99999999999]",
    # unicode
    "é", "ß", "İ", "ﬀ", "\u202egnp.exe", "\u200b", "\ufeff", "\uffff", "\ufffd", "\U0001d54f",
    "\U0001f600", "\U0001f469\u200d\U0001f469\u200d\U0001f467", "Z\u0364\u0354\u0367\u0311a\u0308",
    "日本語", "العربية", "\u0000\u0001\u001f\u007f", "Ａｄｍｉｎ", "\u2028", "\u00a0",
    # format strings
    "%s%s%s%n", "{0}", "{}", "%x" * 8,
    # protocol words, in the wrong places
    "lkc_" + "A" * 43, "lkr_" + "A" * 43, "Bearer x", "Basic x", "openid", "openid openid",
    "openid email offline_access read:apps manage:apps manage:org manage:users full read:full",
    "full", "read:full", " openid ", "OPENID", "orders:read", "a:b:c", "admin", "member", "auditor",
    "owner", "root", "S256", "plain", "s256", "code", "token", "id_token", "code id_token",
    "none", "login", "consent", "select_account", "none login", "query", "fragment", "form_post",
    "on-behalf-of-user", "own-behalf", "client_credentials", "authorization_code",
    "refresh_token", "password", JWT_BEARER, "jwt-bearer", ASSERTION_TYPE,
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange", "implicit",
    # e-mail addresses
    "a@b", "@", "a@", "@b", "x@example.com", '"a b"@example.com', "a@[127.0.0.1]",
    "a+b@example.com", "a@example..com", "a@-example.com", "a" * 65 + "@example.com",
    # times
    "2024-01-01", "2024-13-45", "1970-01-01T00:00", "9999-12-31T23:59", "-62135596800",
    "2024-02-30", "T", "2024-01-01T25:61", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00+99:00",
    # formats, policies, algorithms, booleans
    "csv", "ndjson", "json", "xml", "CSV", "unrestricted", "restricted", "RS256", "ES256",
    "HS256", "EdDSA", "on", "off", "yes", "no", "allow", "deny", "Allow",
]

NUMBERS = [
    lambda r: str(r.randint(-(2**70), 2**70)),
    lambda r: str(r.randint(-1000, 1000)),
    lambda r: repr(r.uniform(-1e300, 1e300)),
    lambda r: str(r.choice([0, -1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1])),
    lambda r: "9" * r.randint(20, 400),
    lambda r: "-" + "9" * r.randint(20, 400),
    lambda r: "1e" + str(r.randint(-400, 400)),
]

# Code point ranges to draw random unicode from (no surrogates).
UNICODE_RANGES = [(0x20, 0x7E), (0x80, 0x7FF), (0x800, 0xD7FF), (0xE000, 0xFFFF), (0x10000, 0x10FFFF), (0, 0x1F)]

METHODS = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "MKCOL",
    "BREW", "get", "Post", "X" * 64, "QUERY", "PURGE", "M-SEARCH", "LINK",
]
# Methods that do not even parse (the connection is refreshed after them).
BAD_METHODS = ["", "G\x00T", "GET /x HTTP/1.1\r\nX:", "G ET", "GET\t", "\u00c9T\u00c9"]


# ----------------------------------------------------------------------------------------
# Bytes and text
# ----------------------------------------------------------------------------------------


def enc(s) -> bytes:
    """Text as sent: UTF-8, with raw (possibly invalid) bytes carried as surrogate escapes."""
    if isinstance(s, bytes):
        return s
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogatepass")


def raw(b: bytes) -> str:
    """Bytes carried in a str (surrogate escapes for what is not UTF-8)."""
    return b.decode("utf-8", "surrogateescape")


def pct(s) -> str:
    """Form-encodes one key or value."""
    return urllib.parse.quote_plus(enc(s), safe="")


def pct_path(s) -> str:
    """Percent-encodes one path segment."""
    return urllib.parse.quote(enc(s), safe="")


def b64u(b) -> str:
    return base64.urlsafe_b64encode(enc(b)).rstrip(b"=").decode()


def b64u_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64(b) -> str:
    return base64.b64encode(enc(b)).decode()


def show(s, n: int = 160) -> str:
    """A one-line, printable, bounded rendering of request or answer text."""
    if isinstance(s, bytes):
        s = raw(s)
    cut = s[:n]
    text = enc(cut).decode("ascii", "backslashreplace")
    text = "".join(c if 32 <= ord(c) < 127 else "\\x%02x" % ord(c) for c in text)
    return text + ("..." if len(s) > n else "")


def is_jwt(v: str) -> bool:
    return isinstance(v, str) and v.count(".") == 2 and v.startswith("ey")


# ----------------------------------------------------------------------------------------
# HTTP: http.client without its client-side validation, one keep-alive connection per worker
# ----------------------------------------------------------------------------------------


class RawConnection(http.client.HTTPConnection):
    """http.client's connection, letting any method, target and header through as given,
    so the server, not the client library, decides what to make of hostile bytes."""

    def _validate_method(self, method):  # noqa: D401 - http.client hook
        pass

    def _validate_path(self, url):
        pass

    def _validate_host(self, host):
        pass

    def _encode_request(self, request):
        return enc(request)

    def putheader(self, header, *values):
        vals = []
        for v in values:
            v = enc(str(v) if isinstance(v, int) else v)
            # A line break inside a value is sent (header injection), but never an empty
            # line: that would end the header block early and desynchronise the connection,
            # testing the client's framing instead of the server.
            v = re.sub(rb"[\r\n]+", b"\r\n", v)
            if v.endswith(b"\r\n"):
                v += b"X-Injected: 1"
            if v.startswith(b"\r\n"):
                v = b"x" + v
            vals.append(v)
        self._output(enc(header) + b": " + b"\r\n\t".join(vals))


@dataclass
class Req:
    method: str
    path: str
    headers: list
    body: bytes | None = None

    @property
    def oversize(self) -> bool:
        return self.body is not None and len(self.body) > BODY_LIMIT

    @property
    def tainted(self) -> bool:
        """Bytes that break HTTP/1.1 framing or parsing: the server answers 400 and closes,
        so the connection is not reused after such a request."""
        line = self.method + self.path
        bad_line = not self.method or any(c in line for c in " \r\n\t\x00") or any(ord(c) > 126 for c in line)
        bad_head = any(not TOKEN.fullmatch(k) or any(c in enc(v) for c in (b"\r", b"\n", b"\x00"))
                       for k, v in self.headers)
        return bad_line or bad_head


@dataclass
class Answer:
    status: int | None = None
    headers: object = None
    body: bytes = b""
    error: str | None = None

    def header(self, name: str) -> str:
        return (self.headers.get(name) if self.headers is not None else None) or ""

    def cookie(self, name: str = SESSION_COOKIE) -> str | None:
        """The value a Set-Cookie of this answer gives `name`, if any."""
        if self.headers is None:
            return None
        for line in self.headers.get_all("Set-Cookie") or []:
            first = line.split(";", 1)[0]
            k, _, v = first.partition("=")
            if k.strip() == name and v.strip():
                return v.strip()
        return None

    def json(self):
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


# Errors of a connection the server may have closed while idle: worth one retry on a fresh
# connection, which tells an idle close (the retry succeeds) from a crash (it fails again).
RETRYABLE = (
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)


class Client:
    """One keep-alive connection, reopened when the server closes it."""

    def __init__(self, host: str, port: int, timeout: float, source: str | None = None):
        self.host, self.port, self.timeout, self.source = host, port, timeout, source
        self.conn: RawConnection | None = None

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        self.conn = None

    def use_source(self, source: str | None):
        if source != self.source:
            self.close()
            self.source = source

    def send(self, req: Req) -> Answer:
        for attempt in range(2):
            if self.conn is None:
                src = (self.source, 0) if self.source else None
                self.conn = RawConnection(self.host, self.port, timeout=self.timeout, source_address=src)
            reused = self.conn.sock is not None
            try:
                ans = self._exchange(req)
                if req.tainted:
                    self.close()
                return ans
            except TimeoutError:
                self.close()
                return Answer(error="timeout after %g s" % self.timeout)
            except (OSError, http.client.HTTPException) as e:
                self.close()
                if attempt == 0 and reused and not req.oversize and isinstance(e, RETRYABLE):
                    continue
                return Answer(error="%s: %s" % (type(e).__name__, e))
        return Answer(error="unreachable")

    def _exchange(self, req: Req) -> Answer:
        c = self.conn
        c.putrequest(req.method, req.path, skip_host=True, skip_accept_encoding=True)
        for k, v in req.headers:
            c.putheader(k, v)
        if req.body is not None:
            c.putheader("Content-Length", str(len(req.body)))
        c.endheaders(req.body)
        resp = c.getresponse()
        body = resp.read()
        return Answer(resp.status, resp.headers, body)


# ----------------------------------------------------------------------------------------
# Statistics
# ----------------------------------------------------------------------------------------


TCHARS = set("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def is_token(method: str) -> bool:
    """Whether `method` is an HTTP token (RFC 9110 §5.6.2), i.e. a request line can carry it."""
    return bool(method) and all(c in TCHARS for c in method)


def is_target(path: str) -> bool:
    """Whether `path` can stand in a request line: no space or control character (a space
    would split the line into more than three parts, RFC 9112 §3)."""
    return all(ord(c) > 0x20 and ord(c) != 0x7F for c in path)


class Stats:
    """Answers by class and family, examples of failures, and the request counter."""

    def __init__(self, failures_path: str | None):
        self.lock = threading.Lock()
        self.classes = collections.Counter()
        self.families = collections.Counter()
        self.statuses = collections.Counter()
        self.total = 0
        self.campaign = 0
        self.refused_run = 0
        self.examples: dict[str, list[str]] = {"5xx": [], "broken": []}
        self.seen: set = set()
        self.failures = open(failures_path, "w", encoding="utf-8") if failures_path else None
        self.generator_errors = 0

    def record(self, family: str, req: Req, ans: Answer, campaign: bool = True) -> str:
        refused = bool(ans.error) and "ConnectionRefused" in ans.error
        if ans.error:
            # A body past the limit may be refused by closing the connection on it, and so
            # may a request line that is not HTTP (a method that is not a token, RFC 9110
            # §9.1, or a target with a space or a control character, RFC 9112 §3): the HTTP
            # parser answers 400 and closes, often before the body is sent.
            unparseable = not is_token(req.method) or not is_target(req.path)
            kind = "closed" if (req.oversize or unparseable) and not refused else "broken"
        elif ans.status >= 500:
            kind = "5xx"
        elif ans.status >= 400:
            kind = "4xx"
        elif ans.status >= 300:
            kind = "3xx"
        elif ans.status >= 200:
            kind = "2xx"
        else:
            kind = "other"
        with self.lock:
            self.total += 1
            if campaign:
                self.campaign += 1
            self.classes[kind] += 1
            self.families[family] += 1
            self.statuses[ans.status if ans.status is not None else "error"] += 1
            self.refused_run = self.refused_run + 1 if refused else 0
            if kind in ("5xx", "broken"):
                self._failure(kind, family, req, ans)
        return kind

    def _failure(self, kind, family, req, ans):
        what = "(%s)" % (ans.status if ans.status is not None else ans.error)
        line = "%s: %s %s %s %s" % (kind, show(req.method, 40), show(req.path, 200), show(what, 120),
                                    show(ans.body, 120))
        key = (kind, req.method, req.path.split("?")[0][:80], ans.status)
        if key not in self.seen and len(self.examples[kind]) < 20:
            self.seen.add(key)
            self.examples[kind].append(line.rstrip() + "  [%s]" % family)
        if self.failures is not None:
            self.failures.write(json.dumps({
                "kind": kind, "family": family, "method": raw(enc(req.method)), "path": raw(enc(req.path)),
                "headers": [[b64(k), b64(v)] for k, v in req.headers],
                "body_b64": b64(req.body) if req.body is not None else None,
                "status": ans.status, "error": ans.error, "answer": show(ans.body, 2000),
            }, ensure_ascii=True) + "\n")
            self.failures.flush()


# ----------------------------------------------------------------------------------------
# Credentials and objects the campaign may mutate
# ----------------------------------------------------------------------------------------


class Creds:
    """Valid credentials, refreshed during the campaign, and pools of objects the campaign
    created for itself: destructive templates aim only at these, never at the apps and
    users it signs in with."""

    def __init__(self):
        self.lock = threading.Lock()
        self.refreshing = threading.Lock()
        # Held around refresh-token grants with the shared token: two workers rotating it at
        # once would look like a replay and end the grant for everyone until the next fetch.
        self.rotating = threading.Lock()
        self.next_refresh = REFRESH_EVERY
        self.cc_token = ""
        self.user_token = ""
        self.refresh_token = ""
        self.id_token = ""
        self.jwks = "{}"
        self.sessions: dict[str, tuple[str, str]] = {}  # name -> (cookie, csrf)
        self.pending: list[str] = []  # pending authorization requests (consent page)
        self.spares: list[str] = []  # refresh tokens of their own grants, to be revoked
        self.apps: list[dict] = []  # {"client_id", "name", "secrets": [ids]}
        self.users: list[str] = []
        self.apis: list[str] = []

    def add(self, pool: str, item, cap: int = 60):
        with self.lock:
            items = getattr(self, pool)
            if item not in items:
                items.append(item)
            del items[:-cap]

    def remove_app(self, client_id: str):
        with self.lock:
            self.apps = [a for a in self.apps if a["client_id"] != client_id]

    def remove(self, pool: str, item):
        with self.lock:
            items = getattr(self, pool)
            if item in items:
                items.remove(item)

    def take(self, pool: str):
        with self.lock:
            items = getattr(self, pool)
            return items.pop() if items else None

    def pick(self, pool: str, rng: random.Random):
        with self.lock:
            items = getattr(self, pool)
            return rng.choice(items) if items else None


# ----------------------------------------------------------------------------------------
# Mutations
# ----------------------------------------------------------------------------------------


class Mutator:
    """Hostile values and the ways a valid request is bent, from one seeded stream."""

    def __init__(self, rng: random.Random):
        self.r = rng

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def count(self) -> int:
        return 1 + self.chance(0.35) + self.chance(0.12)

    def token(self, n: int = 16, alphabet: str = ALNUM) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def letters(self, n: int = 8) -> str:
        return self.token(n, string.ascii_lowercase)

    def long(self, where: str) -> str:
        """A long string; in a body, now and then longer than the whole body may be."""
        r = self.r
        n = r.choice([64, 255, 256, 1000, 2049, 4097, PARAM_LIMIT + 1, 16_385, 65_537])
        if where == "body" and r.random() < 0.08:
            n = r.choice([BODY_LIMIT + 1, OVERSIZE])
        n = min(n, {"url": 70_000, "header": 12_000}.get(where, OVERSIZE))
        unit = r.choice(["A", "a", "0", "%", "é", "\U0001f600", "<", "&", "=", "\x00", " ", "+", "ab", "\\", "'"])
        return unit * max(1, n // len(enc(unit)))

    def unicode(self) -> str:
        r = self.r
        out = []
        for _ in range(r.randint(1, 40)):
            lo, hi = r.choice(UNICODE_RANGES)
            out.append(chr(r.randint(lo, hi)))
        return "".join(out)

    def hostile(self, where: str = "body") -> str:
        r = self.r
        x = r.random()
        if x < 0.5:
            return r.choice(HOSTILE)
        if x < 0.6:
            return self.long(where)
        if x < 0.7:
            return raw(r.randbytes(r.choice([1, 2, 3, 8, 33, 200])))
        if x < 0.8:
            return self.unicode()
        if x < 0.9:
            return r.choice(NUMBERS)(r)
        return r.choice(HOSTILE) + r.choice(HOSTILE)

    def value(self, v: str, where: str = "body") -> str:
        """A valid value bent: replaced, flipped, truncated, padded or wrapped."""
        r = self.r
        if is_jwt(v) and r.random() < 0.6:
            return self.jwt(v)
        op = r.randrange(11)
        if op <= 3 or not v:
            return self.hostile(where)
        if op == 4:
            i = r.randrange(len(v))
            return v[:i] + r.choice(ALNUM + "%+/=._-~\x00") + v[i + 1:]
        if op == 5:
            return v[: r.randrange(len(v))]
        if op == 6:
            return v + self.hostile(where)
        if op == 7:
            return self.hostile(where) + v
        if op == 8:
            return v * r.choice([2, 3, 50]) if len(v) < 5000 else v + v[:100]
        if op == 9:
            return v.swapcase() if r.random() < 0.5 else " %s " % v
        i = r.randrange(len(v) + 1)
        return v[:i] + r.choice(["\x00", "\r\n", "%00", "%", "\u202e", "\n", "\t", "&", "="]) + v[i:]

    def key(self, k: str) -> str:
        r = self.r
        return r.choice([
            k.upper(), k + "[]", k + "[0]", k + "[99999999999]", k + "[a][b][c]", k + "]", "[" + k,
            k + " ", " " + k, k + "\x00", "", k * 2, self.hostile("url")[:200], k.replace("_", "-"),
            k + "." + k, "%s[%s]" % (k, self.hostile("url")[:40]),
        ])

    def pairs(self, pairs: list, known_keys: list[str]) -> list:
        """Drops, duplicates, renames, replaces, adds or reorders parameters."""
        r = self.r
        pairs = list(pairs)
        op = r.randrange(10)
        if pairs and op == 0:
            del pairs[r.randrange(len(pairs))]
        elif pairs and op == 1:
            k, v = r.choice(pairs)
            pairs.insert(r.randrange(len(pairs) + 1), (k, v if r.random() < 0.5 else self.hostile()))
        elif pairs and op in (2, 3, 4, 5):
            i = r.randrange(len(pairs))
            pairs[i] = (pairs[i][0], self.value(pairs[i][1]))
        elif pairs and op == 6:
            i = r.randrange(len(pairs))
            pairs[i] = (self.key(pairs[i][0]), pairs[i][1])
        elif pairs and op == 7:
            i = r.randrange(len(pairs))
            pairs[i] = (pairs[i][0], "")
        elif op == 8:
            k = r.choice(known_keys) if known_keys and r.random() < 0.6 else self.key(self.letters(5))
            pairs.insert(r.randrange(len(pairs) + 1), (k, self.hostile()))
        else:
            r.shuffle(pairs)
            if r.random() < 0.3 and sum(len(k) + len(v) for k, v in pairs) < 20_000:
                pairs = pairs * r.choice([2, 20])
        return pairs

    def encode_pairs(self, pairs: list, *, in_url: bool, malformed: bool, protect: set) -> str:
        """Form-encodes pairs; `malformed` adds stray and badly escaped segments between them
        (never inside a value of `protect`, a real password)."""
        r = self.r
        parts = []
        for k, v in pairs:
            if malformed and not in_url and k not in protect and r.random() < 0.15:
                parts.append(raw(enc(k) + b"=" + enc(v)))  # unescaped, as given
            else:
                parts.append(pct(k) + "=" + pct(v))
        if malformed:
            stray = r.choice([
                "%", "%G1=x", "%zz", "x=%", "x=%4", "%C3%28=%C3%28", "%ED%A0%80=1", "=", "==", "",
                "&", "a", "a==b", "%00=%00", "x=%FF%FE", "+=+", ";x=1", "x=1;y=2", "%26=%3D", "[]=1",
                "a[=1", "a]=1", "a[b=1", "%5B%5D=1",
            ])
            parts.insert(r.randrange(len(parts) + 1), stray)
            if not in_url and r.random() < 0.2:
                parts.insert(r.randrange(len(parts) + 1), raw(r.randbytes(r.randint(1, 16))))
        seps = ["&&", ";", "&amp;"] + ([] if in_url else ["\n", "\r\n"])  # no raw line break in a URL
        sep = "&" if not malformed or r.random() < 0.8 else r.choice(seps)
        return sep.join(parts)

    def json_text(self, obj) -> bytes:
        """JSON bent at the object level or the text level."""
        r = self.r
        op = r.randrange(12)
        if isinstance(obj, dict) and op <= 4:
            obj = dict(obj)
            for _ in range(self.count()):
                which = r.randrange(5)
                keys = list(obj)
                if keys and which == 0:
                    del obj[r.choice(keys)]
                elif which == 1:
                    obj[r.choice(["extra", "id", "org_id", "owner_id", "__proto__", self.letters(6)])] = self.hostile()
                elif keys and which == 2:
                    obj[r.choice(keys)] = r.choice([None, True, False, 0, -1, 1.5, 2**64, -(2**63) - 1, 1e308, [], {},
                                                    [self.hostile()], {"a": self.hostile()}, [[[]]]])
                elif keys:
                    k = r.choice(keys)
                    v = obj[k]
                    if isinstance(v, list):
                        obj[k] = v + [self.hostile()] if r.random() < 0.5 else v * r.choice([2, 100])
                    else:
                        obj[k] = self.value(str(v))
            return enc(json.dumps(obj, ensure_ascii=r.random() < 0.5))
        if op == 5:
            return enc(r.choice([
                "", "{", "}", '{"a":}', "{'a':1}", '{"a":1,}', "[1,2", "nul", "NaN", '{"a":NaN}',
                '{"a":1e999}', '{"a":-1e999}', '{"a":"\\ud800"}', '{"a":"\\u0000"}', "/* c */{}",
                '{"a":1}{"b":2}', '{"a":1} trailing', '{"a"', '"', "\"\\", '{"\\x":1}', "{\"a\":01}",
                '{"name":"a","name":"b"}', " ", "\ufeff{}", '{"a":"\x01"}',
            ]))
        if op == 6:
            depth = r.choice([64, 129, 1000, 100_000])
            return (b"[" * depth + b"]" * depth) if r.random() < 0.5 else (b'{"a":' * depth + b"1" + b"}" * depth)
        if op == 7 and isinstance(obj, dict) and obj:
            text = json.dumps(obj)
            k = next(iter(obj))
            return enc("{" + json.dumps(k) + ":" + json.dumps(self.hostile()) + "," + text[1:])
        if op == 8:
            text = enc(json.dumps(obj))
            i = r.randrange(len(text) + 1)
            return text[:i] + r.randbytes(r.randint(1, 8)) + text[i:]
        if op == 9:
            return json.dumps(obj).encode(r.choice(["utf-16", "utf-32", "utf-16-le"]))
        if op == 10:
            return enc(json.dumps(r.choice([[obj], "string", 123, None, True, [], 1e308])))
        return enc(json.dumps(obj)) + enc(r.choice(["\x00", " x", ",", "]", "\n\n{}"]))

    def jwt(self, tok: str, secrets: tuple = ()) -> str:
        """A JWT bent: a flipped character in one part, alg none, an HS256 forgery (key
        confusion with the JWKS or a client secret), tampered claims or header, truncations."""
        r = self.r
        parts = tok.split(".")
        if len(parts) != 3:
            return self.value(tok) if tok else self.hostile()
        h, p, s = parts
        try:
            header = json.loads(b64u_decode(h))
            payload = json.loads(b64u_decode(p))
        except (ValueError, UnicodeDecodeError):
            header, payload = {"alg": "ES256"}, {}
        if not isinstance(header, dict):
            header = {"alg": "ES256"}
        if not isinstance(payload, dict):
            payload = {}

        def flip(part: str) -> str:
            if not part:
                return "A"
            i = r.randrange(len(part))
            c = r.choice([ch for ch in ALNUM + "-_" if ch != part[i]])
            return part[:i] + c + part[i + 1:]

        op = r.randrange(14)
        if op == 0:
            return ".".join([flip(h), p, s])
        if op == 1:
            return ".".join([h, flip(p), s])
        if op == 2:
            return ".".join([h, p, flip(s)])
        if op == 3:
            alg = r.choice(["none", "None", "NONE", "nOnE"])
            hh = dict(header, alg=alg)
            return b64u(json.dumps(hh)) + "." + p + "." + r.choice(["", s, "AAAA"])
        if op == 4:
            hh = dict(header, alg="HS256")
            key = enc(r.choice([""] + list(secrets) + [self.letters(8)]))
            signing_input = b64u(json.dumps(hh)) + "." + p
            sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
            return signing_input + "." + b64u(sig)
        if op == 5:
            pp = dict(payload)
            field = r.choice(["exp", "sub", "scope", "aud", "iss", "client_id", "iat", "nbf", "jti", "org_id"])
            pp[field] = r.choice([4_102_444_800, -1, 0, 1e308, "x", None, [], {}, "full", self.hostile(), 2**64])
            return h + "." + b64u(json.dumps(pp)) + "." + s  # the original signature kept
        if op == 6:
            hh = dict(header)
            hh[r.choice(["kid", "alg", "jku", "x5u", "crit", "typ", "cty", "jwk", "zip"])] = r.choice([
                self.hostile("header"), "../../../../dev/null", "' OR 1=1 --", "http://evil.example/jwks",
                ["exp"], {"kty": "oct", "k": "AAAA"}, "ES512", "RS256", "PS256", "EdDSA", "XYZ", "", None, 1,
            ])
            return b64u(json.dumps(hh)) + "." + p + "." + s
        if op == 7:
            return r.choice([h + "." + p, h + "." + p + ".", tok + ".", tok + "." + s, "." + p + "." + s, tok[:-1],
                             tok[: r.randrange(len(tok))], h + ".." + s])
        if op == 8:
            return ".".join([r.choice([h, "!!!", "=", h + "=="]), r.choice([p, "e30", "W10", "bnVsbA", "%%%"]),
                             r.choice([s, s + "==", "", "A" * 5000])])
        if op == 9:
            return b64u(json.dumps(header)) + "." + b64u(r.choice([b"not json", b"[]", b"null", b"1e999",
                                                                     b'{"exp":1e999}', b"\xff\xfe",
                                                                     b'{"a":' * 200 + b"1" + b"}" * 200])) + "." + s
        if op == 10:
            return r.choice(["", ".", "..", "...", "null", "e30.e30.", "ey.ey.ey", "a.b.c"])
        if op == 11:
            big = dict(payload, pad="A" * r.choice([10_000, 100_000]))
            return h + "." + b64u(json.dumps(big)) + "." + s
        if op == 12:
            return tok.upper() if r.random() < 0.5 else tok[::-1]
        return " " + tok + " " if r.random() < 0.5 else tok + "\x00"

    def basic(self, cid: str, secret: str) -> str:
        """Basic credentials, bent."""
        r = self.r
        op = r.randrange(14)
        good = "%s:%s" % (pct(cid), pct(secret))
        if op == 0:
            return "Basic " + b64("%s:%s" % (pct(cid), pct(self.value(secret))))
        if op == 1:
            return "Basic " + r.choice(["!!!!", "====", "a", "YQ", "%%%", "Zm9v\nYmFy", "Zm9vOmJhcg", self.hostile("header")])
        if op == 2:
            return "Basic " + b64(cid + secret)
        if op == 3:
            return "Basic " + b64(b"\xff\xfe:" + enc(secret))
        if op == 4:
            return "Basic " + b64(r.choice(["%ZZ:%", "%:%", "%C3%28:x", cid + "%:" + secret, "%00:%00"]))
        if op == 5:
            return r.choice(["basic ", "BASIC  ", "Basic", "Basic\t", "Basic\u00a0", "Basic    "]) + b64(good)
        if op == 6:
            return "Bearer " + b64(good)
        if op == 7:
            return "Basic " + b64("%s:%s" % (pct(self.hostile("header")[:300]), pct(secret)))
        if op == 8:
            n = r.choice([1000, 9000])
            return "Basic " + b64("a" * n + ":" + "b" * n)
        if op == 9:
            return r.choice(["Basic ", "Basic  ", "", " ", "Digest username=\"x\"", "Negotiate YQ==", "Basic " + b64(":")])
        if op == 10:
            return "Basic " + b64(good) + r.choice(["=", "==", " x", "\x00", "a"])
        if op == 11:
            return "Basic " + b64("%s:%s" % (cid, secret)) + ", Basic " + b64(good)
        if op == 12:
            return "Basic " + b64("%s:%s:%s" % (pct(cid), pct(secret), pct(secret)))
        return "Basic " + b64(good).rstrip("=")

    def bearer(self, tok: str, secrets: tuple = ()) -> str:
        r = self.r
        op = r.randrange(8)
        if op <= 3:
            return "Bearer " + self.jwt(tok, secrets)
        if op == 4:
            return r.choice(["bearer ", "BEARER ", "Bearer  ", "Bearer\t", "Token ", "Bearer"]) + tok
        if op == 5:
            return r.choice(["Bearer ", "Bearer", "Bearer  ", "Basic " + b64("a:b"), "", "Bearer " + tok + " " + tok])
        if op == 6:
            return "Bearer " + self.hostile("header")
        return "Bearer " + tok + r.choice([",", " x", "\x00", "=", "\u00e9"])

    def cookie(self, good: str | None) -> str:
        """A garbage Cookie header."""
        r = self.r
        good = good or self.token(22)
        i = r.randrange(len(good))
        return r.choice([
            "%s=%s" % (SESSION_COOKIE, self.hostile("header")),
            "%s=%s; %s=%s" % (SESSION_COOKIE, self.token(22), SESSION_COOKIE, good),
            "%s=%s" % (SESSION_COOKIE, good[:i] + r.choice("ABC+/=-_%") + good[i + 1:]),
            "%s=%s" % (SESSION_COOKIE, good * 4),
            "%s=" % SESSION_COOKIE, SESSION_COOKIE, ";;;;", "=x", "garbage",
            "a=1; " * 200 + "%s=%s" % (SESSION_COOKIE, good),
            "%s=%s" % (SESSION_COOKIE, "A" * 8000),
            "%s=\"%s\"" % (SESSION_COOKIE, good),
            "%s=%s" % (SESSION_COOKIE, raw(r.randbytes(24))),
            "%s=%s" % (SESSION_COOKIE.upper(), good),
        ])

    def method(self, safe: bool = False) -> str:
        """A random method; `safe`: none that could change what the path names."""
        choices = [m for m in METHODS if m.upper() not in ("POST", "PUT", "PATCH", "DELETE")] if safe else METHODS
        return self.r.choice(choices) if self.r.random() < 0.9 else self.r.choice(BAD_METHODS)

    def path(self, path: str) -> str:
        """A path bent: separators, traversal, case, encodings, length."""
        r = self.r
        op = r.randrange(12)
        if op == 0:
            return path + "/"
        if op == 1:
            return "/" + path
        if op == 2:
            return path.upper()
        if op == 3:
            return path + r.choice(["/..", "/../..", "/%2e%2e", "/%2e%2e%2f%2e%2e", "/..;/", "/./"]) + r.choice(["", "/admin", "/etc/passwd"])
        if op == 4:
            return path + r.choice([";jsessionid=x", "%00", "%00.json", ".json", "%20", "%2F", "~", "#frag", "?", "??", "?&"])
        if op == 5:
            segs = path.split("/")
            i = r.randrange(1, len(segs)) if len(segs) > 1 else 0
            segs[i] = pct_path(self.hostile("url")[:3000])
            return "/".join(segs)
        if op == 6:
            return path + "/" + "a" * r.choice([255, 4096, 20_000])
        if op == 7:
            return path.replace("/", "//")
        if op == 8:
            return path + "/" + pct_path(self.unicode())
        if op == 9:
            return path.replace("/", "/./")
        if op == 10:
            return r.choice(["*", "", "http://evil.example" + path, "//evil.example" + path, path + "\\..\\"])
        return path + "/" + r.choice(["%ZZ", "%", "%C3%28", "%ED%A0%80", "%FF%FE", "%2e%2e%5c"])

    def headers(self, hs: list, host_header: str, good_cookie: str | None) -> list:
        """Headers bent: forged client addresses and hosts, content types, cookies, accepts,
        referers, odd and numerous headers. Content-Length is never touched."""
        r = self.r
        hs = list(hs)
        op = r.randrange(16)

        def set_(name: str, value: str | None):
            hs[:] = [(k, v) for k, v in hs if k.lower() != name.lower()]
            if value is not None:
                hs.append((name, value))

        if op == 0:
            set_("X-Forwarded-For", r.choice([
                "1.2.3.4", "1.2.3.4, 5.6.7.8", "::1", "unknown", "256.256.256.256", "127.0.0.1",
                ", ".join(["10.0.0.%d" % i for i in range(200)]), self.hostile("header"), "", "_", "0",
                "[::1]:80", "1.2.3.4:5678",
            ]))
        elif op == 1:
            set_("Forwarded", r.choice(["for=1.2.3.4;proto=https;host=evil.example", "for=\"[::1]\"", "for=unknown",
                                         self.hostile("header"), "for=;;;"]))
            if r.random() < 0.5:
                hs.append(("X-Real-IP", r.choice(["1.2.3.4", self.hostile("header")])))
        elif op == 2:
            choice = r.randrange(4)
            if choice == 0:
                set_("Host", None)
            elif choice == 1:
                set_("Host", r.choice(["evil.example", "127.0.0.1:1", "localhost", "", "[::1]", "a" * 3000,
                                       "127.0.0.1:99999", "x:y:z", self.hostile("header")]))
            else:
                hs.append(("Host", r.choice(["evil.example", host_header])))
            if r.random() < 0.3:
                hs.append(("X-Forwarded-Host", r.choice(["evil.example", self.hostile("header")])))
                hs.append(("X-Forwarded-Proto", r.choice(["https", "gopher", self.hostile("header")])))
        elif op == 3:
            set_("Cookie", self.cookie(good_cookie))
        elif op == 4:
            set_("Content-Type", r.choice([
                None, "", "text/plain", JSON, FORM, FORM + "; charset=utf-8", FORM + "; charset=latin1",
                FORM.upper(), "multipart/form-data; boundary=x", "multipart/form-data", "application/xml",
                "application/json; charset=utf-16", FORM + ";;;", "*/*", self.hostile("header"),
                "application/x-www-form-urlencodedx", " " + FORM,
            ]))
        elif op == 5:
            hs.append(("Content-Type", r.choice([FORM, JSON, "text/plain"])))
        elif op == 6:
            set_("Accept", r.choice(["text/html", "*/*", JSON, "text/html;q=0.1, application/json", "",
                                     "application/x-ndjson", self.hostile("header")]))
        elif op == 7:
            set_("Referer", r.choice(["http://evil.example/x", "javascript:alert(1)", "null", "",
                                      "http://%s/admin?x=%s" % (host_header, pct(self.hostile("url")[:200])),
                                      self.hostile("header"), "/relative", "http://%s/\u00e9" % host_header]))
            if r.random() < 0.5:
                set_("Accept", "text/html")
            if r.random() < 0.5:
                set_("Origin", r.choice(["http://evil.example", "null", self.hostile("header")]))
        elif op == 8:
            name = r.choice(["X-" + self.letters(6), "X-Custom", self.letters(3), "X" * 1000, "Bad Header",
                             "bad:name", "b\u00e9d", "", "X-\x01"])
            hs.append((name, self.hostile("header")))
        elif op == 9 and hs:
            k, v = r.choice(hs)
            hs.append((k, v if r.random() < 0.5 else self.hostile("header")))
        elif op == 10 and hs:
            del hs[r.randrange(len(hs))]
        elif op == 11:
            for i in range(r.choice([50, 95, 120])):
                hs.append(("X-Many-%d" % i, str(i)))
        elif op == 12:
            hs.append(r.choice([
                ("Expect", "100-continue"), ("Connection", "close"), ("Connection", "keep-alive, Upgrade"),
                ("Range", "bytes=0-"), ("Range", "bytes=99999999999-"), ("Range", "bytes=-0"), ("Range", "bytes=5-1"),
                ("Range", "bytes=0-1,2-3," * 50), ("If-None-Match", "*"), ("If-Modified-Since", "yesterday"),
                ("Accept-Encoding", "gzip, br, zstd"), ("Content-Encoding", "gzip"), ("TE", "trailers"),
                ("Accept-Language", self.hostile("header")), ("User-Agent", self.hostile("header")),
                ("DPoP", "eyJhbGciOiJub25lIn0.e30."), ("Upgrade", "websocket"), ("Max-Forwards", "0"),
            ]))
        elif op == 13:
            set_("User-Agent", r.choice(["", self.long("header"), self.unicode(), "curl/8"]))
        elif op == 14:
            hs.append(("Authorization", r.choice(["Basic " + b64("a:b"), "Bearer x", self.hostile("header")])))
        else:
            name, value = r.choice([("Cookie", self.cookie(good_cookie)), ("X-Forwarded-For", "1.1.1.1"),
                                    ("Content-Type", FORM)])
            hs.append((name, value))
            hs.append((name, self.hostile("header")[:500]))
        return hs


# ----------------------------------------------------------------------------------------
# Speaking to the server: templates shared by the set-up and the campaign
# ----------------------------------------------------------------------------------------


class Speaker:
    """Builds valid requests and follows the few multi-step flows (sign-in, consent, code)."""

    def __init__(self, ctx: "Context", client: Client, rng: random.Random, family: str = "setup"):
        self.ctx, self.client, self.rng = ctx, client, rng
        self.args, self.creds, self.stats = ctx.args, ctx.creds, ctx.stats
        self.mut = Mutator(rng)
        self.family = family
        self.campaign = family != "setup"

    def do(self, req: Req) -> Answer:
        ans = self.client.send(req)
        self.stats.record(self.family, req, ans, campaign=self.campaign)
        if self.stats.refused_run > 100:
            self.ctx.abort.set()
        return ans

    def headers(self, *, cookie: str | None = None, ctype: str | None = None, auth: str | None = None,
                accept: str = JSON, extra=()) -> list:
        h = [("Host", self.ctx.host_header), ("User-Agent", UA), ("Accept", accept)]
        if cookie:
            h.append(("Cookie", "%s=%s" % (SESSION_COOKIE, cookie)))
        if auth:
            h.append(("Authorization", auth))
        if ctype:
            h.append(("Content-Type", ctype))
        h.extend(extra)
        return h

    @staticmethod
    def form(pairs) -> bytes:
        return urllib.parse.urlencode(pairs).encode()

    def basic(self, cid: str, secret: str) -> str:
        return "Basic " + b64("%s:%s" % (pct(cid), pct(secret)))

    def cc_basic(self) -> str:
        return self.basic(self.args.client_id, self.args.client_secret)

    def user_basic(self) -> str:
        return self.basic(self.args.user_client_id, self.args.user_client_secret)

    def call_fn(self, endpoint: str, pairs, cookie: str | None, accept: str = JSON) -> Answer:
        """A server function, as the hydrated page calls it."""
        return self.do(Req("POST", "/api/" + endpoint,
                           self.headers(cookie=cookie, ctype=FORM, accept=accept), self.form(pairs)))

    def page_context(self, cookie: str | None = None):
        ans = self.call_fn("page_context", [], cookie)
        data = ans.json() if ans.ok else None
        cookie = ans.cookie() or cookie
        if not isinstance(data, dict):
            return cookie, None, None
        return cookie, data.get("csrf"), data.get("me")

    def sign_in(self, email: str, password: str):
        """A signed-in session: (cookie, csrf), or None."""
        cookie, csrf, _ = self.page_context()
        if not cookie or not csrf:
            return None
        ans = self.call_fn("login", [("csrf", csrf), ("email", email), ("password", password)], cookie)
        cookie = ans.cookie() or cookie
        cookie, csrf, me = self.page_context(cookie)
        return (cookie, csrf) if me and csrf else None

    def pkce(self):
        verifier = self.mut.token(64, PKCE_CHARS)
        return verifier, b64u(hashlib.sha256(verifier.encode()).digest())

    def authorize_params(self, prompt: str | None = None):
        verifier, challenge = self.pkce()
        r = self.rng
        pairs = [
            ("response_type", "code"), ("client_id", self.args.user_client_id), ("redirect_uri", REDIRECT_URI),
            ("scope", r.choice([USER_SCOPE, "openid", "openid email", USER_SCOPE + " read:apps"])),
            ("state", self.mut.token(16)), ("nonce", self.mut.token(16)),
            ("code_challenge", challenge), ("code_challenge_method", "S256"),
        ]
        if prompt:
            pairs.append(("prompt", prompt))
        return pairs, verifier

    def grab_code(self, prompt: str | None = None):
        """A fresh authorization code of the member (consenting when asked): (code, verifier)."""
        member = self.creds.sessions.get("member")
        if not member:
            return None, None
        pairs, verifier = self.authorize_params(prompt)
        ans = self.do(Req("GET", "/oauth2/authorize?" + urllib.parse.urlencode(pairs),
                          self.headers(cookie=member[0], accept="text/html")))
        loc = ans.header("Location")
        if "/consent?request=" in loc:
            rid = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query).get("request", [""])[0]
            ans = self.call_fn("decide_consent", [("csrf", member[1]), ("request", rid), ("decision", "allow")], member[0])
            loc = ans.header("Location")
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query).get("code", [None])[0]
        return code, verifier

    def pending_request(self):
        """A pending authorization request waiting on the consent page, or None."""
        member = self.creds.sessions.get("member")
        if not member:
            return None
        pairs, _ = self.authorize_params("consent")
        ans = self.do(Req("GET", "/oauth2/authorize?" + urllib.parse.urlencode(pairs),
                          self.headers(cookie=member[0], accept="text/html")))
        loc = ans.header("Location")
        if "/consent?request=" in loc:
            return urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query).get("request", [None])[0]
        return None

    def token(self, pairs, auth: str) -> Answer:
        return self.do(Req("POST", "/oauth2/token", self.headers(ctype=FORM, auth=auth), self.form(pairs)))

    def api(self, method: str, path: str, body=None, token: str | None = None) -> Answer:
        data = enc(json.dumps(body)) if body is not None else None
        return self.do(Req(method, "/api/v1" + path,
                           self.headers(auth="Bearer " + (token or self.creds.cc_token),
                                        ctype=JSON if data is not None else None), data))


class Establisher(Speaker):
    """Fetches the credentials, before the campaign and again during it, from 127.0.0.1."""

    def warn(self, message: str):
        if self.ctx.warnings < 30:
            self.ctx.warnings += 1
            print("campaign: warning: " + message, file=sys.stderr)

    def establish(self, first: bool) -> list[str]:
        """Refreshes every credential it can; returns what is missing that the campaign needs."""
        a, c = self.args, self.creds
        missing = []
        if first:
            ans = self.do(Req("GET", "/readyz", self.headers()))
            if ans.status != 200:
                return ["a ready server at %s (GET /readyz: %s)" % (a.base, ans.status or ans.error)]
            ans = self.do(Req("GET", "/oauth2/jwks", self.headers()))
            if ans.ok:
                c.jwks = raw(ans.body)
        # A client-credentials token of the own-behalf app.
        ans = self.token([("grant_type", "client_credentials")], self.cc_basic())
        tok = (ans.json() or {}).get("access_token") if ans.ok else None
        if tok:
            c.cc_token = tok
        else:
            missing.append("a client_credentials token (%s %s)" % (ans.status or ans.error, show(ans.body, 200)))
        # The member's tokens through the password grant.
        ans = self.token([("grant_type", "password"), ("username", a.email), ("password", a.password),
                          ("scope", USER_SCOPE)], self.user_basic())
        doc = (ans.json() or {}) if ans.ok else {}
        if doc.get("refresh_token"):
            c.user_token = doc.get("access_token", "")
            c.refresh_token = doc["refresh_token"]
            c.id_token = doc.get("id_token", c.id_token)
        else:
            missing.append("a refresh token from the password grant (%s %s)" % (ans.status or ans.error, show(ans.body, 200)))
        for _ in range(max(0, 4 - len(c.spares))):  # grants of their own, for valid revocations
            ans = self.token([("grant_type", "password"), ("username", a.email), ("password", a.password),
                              ("scope", USER_SCOPE)], self.user_basic())
            spare = (ans.json() or {}).get("refresh_token") if ans.ok else None
            if spare:
                c.add("spares", spare, cap=8)
        # Portal sessions: the member's, a second one to sign out ("victim"), an anonymous
        # one (sign-in attempts cycle it) and the admin's.
        for name, email, password in [("member", a.email, a.password), ("victim", a.email, a.password),
                                      ("admin", a.admin_email, a.admin_password)]:
            if not email:
                continue
            s = self.sign_in(email, password)
            if s:
                c.sessions[name] = s
            elif name == "member":
                missing.append("a signed-in portal session of %s" % email)
            else:
                self.warn("could not sign in the %s session (%s)" % (name, email))
        cookie, csrf, _ = self.page_context()
        if cookie and csrf:
            c.sessions["anon"] = (cookie, csrf)
        if missing and first:
            return missing
        # A code end to end (consents the first time), then pending consent requests.
        code, verifier = self.grab_code()
        if code:
            ans = self.token([("grant_type", "authorization_code"), ("code", code), ("code_verifier", verifier),
                              ("redirect_uri", REDIRECT_URI)], self.user_basic())
            if not ans.ok:
                self.warn("the authorization-code exchange failed: %s %s" % (ans.status, show(ans.body, 200)))
        elif first:
            self.warn("no authorization code for the member (authorize flow); code templates will use garbage")
        for _ in range(3):
            rid = self.pending_request()
            if rid:
                c.add("pending", rid, cap=40)
        self.top_up()
        return missing

    def top_up(self):
        """Objects for the destructive templates to aim at: apps, a user, an API."""
        c = self.creds
        for _ in range(2 if len(c.apps) < 30 else 0):
            tag = self.mut.letters(10)
            ans = self.api("POST", "/apps", {"name": "sacrificial " + tag, "kind": "own-behalf",
                                             "grant_types": ["client_credentials"], "scopes": ["read:apps"]})
            doc = ans.json() if ans.ok else None
            if isinstance(doc, dict) and doc.get("client_id"):
                app = {"client_id": doc["client_id"], "name": "sacrificial " + tag, "secrets": []}
                detail = self.api("GET", "/apps/" + pct_path(app["client_id"])).json()
                if isinstance(detail, dict):
                    app["secrets"] = [s.get("id") for s in detail.get("secrets", []) if isinstance(s, dict)]
                c.add("apps", app)
            else:
                self.warn("could not create a sacrificial app (%s): destructive API calls will aim at random ids"
                          % (ans.status or ans.error))
                break
        if len(c.users) < 20:
            tag = self.mut.letters(10)
            ans = self.api("POST", "/users", {"email": "sacrificial-%s@example.com" % tag, "name": "Sacrificial",
                                              "role": "member", "password": SACRIFICIAL_PASSWORD})
            doc = ans.json() if ans.ok else None
            if isinstance(doc, dict) and doc.get("user_id"):
                c.add("users", doc["user_id"])
        if len(c.apis) < 20:
            tag = self.mut.letters(10)
            ans = self.api("POST", "/apis", {"name": "Sacrificial " + tag,
                                             "identifier": "https://%s.example.com/api" % tag,
                                             "scopes": "%s:read Read things" % tag})
            doc = ans.json() if ans.ok else None
            if isinstance(doc, dict) and doc.get("id"):
                c.add("apis", doc["id"])


# ----------------------------------------------------------------------------------------
# The campaign's templates
# ----------------------------------------------------------------------------------------

PAGES = [
    "/", "/login", "/consent", "/admin", "/admin/apps/new", "/admin/apps/{id}",
    "/admin/apps/{id}/authorizations", "/account/apps", "/admin/users", "/admin/org", "/admin/apis",
    "/admin/external-apps", "/admin/audit", "/admin/audit/export",
]

STATIC = [
    "/favicon.svg", "/pkg/latchkey.css", "/pkg/latchkey.js", "/pkg/latchkey_bg.wasm", "/pkg/", "/pkg",
    "/pkg/../Cargo.toml", "/pkg/%2e%2e/%2e%2e/Cargo.toml", "/pkg/..%2f..%2fCargo.toml", "/..%2f..%2fetc%2fpasswd",
    "/pkg/latchkey.css%00.js", "/%00", "/pkg//latchkey.css", "/PKG/latchkey.css", "/favicon.svg/",
    "/robots.txt", "/.env", "/.git/config", "/wp-login.php", "/api", "/api/", "/api/nope", "/api/v1/",
    "/api/v2/apps", "/oauth2", "/oauth2/", "/oauth2/nope", "/.well-known/", "/.well-known/jwks.json",
    "/admin/apps", "/admin/nope", "/account", "/consent/x", "/login/x", "/index.html", "/%2e%2e/%2e%2e/etc/passwd",
    "/pkg/%ZZ", "/pkg/\u00e9.css", "/" + "a" * 3000,
]

OPS = ["/healthz", "/readyz", "/metrics"]

PROTOCOL_KEYS = [
    "grant_type", "code", "code_verifier", "redirect_uri", "refresh_token", "scope", "username", "password",
    "assertion", "client_id", "client_secret", "client_assertion", "client_assertion_type", "resource",
    "token", "token_type_hint", "response_type", "state", "nonce", "code_challenge", "code_challenge_method",
    "prompt", "max_age", "login_hint", "request", "request_uri", "response_mode", "id_token_hint",
    "post_logout_redirect_uri", "csrf", "id", "audience", "ui_locales", "claims",
]


class Generator(Speaker):
    """One worker's request stream: picks a template, fills it with valid values, bends it."""

    def __init__(self, ctx, client, rng):
        super().__init__(ctx, client, rng, family="protocol")
        a = self.args
        self.real_locals = [e.split("@")[0].lower() for e in (a.email, a.admin_email) if e]
        self.real_passwords = {p for p in (a.password, a.admin_password) if p}
        # HMAC keys for HS256 forgeries: the client secrets and the published JWKS (key confusion).
        self.secrets = tuple(s for s in (a.client_secret, a.user_client_secret, ctx.creds.jwks) if s)
        t = [
            # protocol (~44 %)
            (3.0, "protocol", self.t_discovery),
            (6.0, "protocol", self.t_token_cc),
            (1.2, "protocol", self.t_token_password),
            (3.0, "protocol", self.t_token_refresh),
            (3.0, "protocol", self.t_token_code),
            (2.0, "protocol", self.t_token_jwt_bearer),
            (2.0, "protocol", self.t_token_assertion),
            (2.5, "protocol", self.t_token_other),
            (6.0, "protocol", self.t_authorize),
            (1.5, "protocol", self.t_resume),
            (4.0, "protocol", self.t_introspect),
            (2.5, "protocol", self.t_revoke),
            (4.0, "protocol", self.t_userinfo),
            (3.0, "protocol", self.t_logout),
            # REST API (~24 %)
            (24.0, "api", self.t_api),
            # server functions (~18 %)
            (18.0, "serverfn", self.t_serverfn),
            # pages, static files, operations (~14 %)
            (9.0, "pages", self.t_page),
            (2.5, "static", self.t_static),
            (2.5, "ops", self.t_ops),
        ]
        self.templates = t
        self.cum = list(itertools.accumulate(w for w, _, _ in t))

    # -- the machinery --------------------------------------------------------------------

    def step(self):
        """One template (one request, or a short flow of them)."""
        _, family, fn = self.rng.choices(self.templates, cum_weights=self.cum)[0]
        self.family = family
        fn()

    def mutating(self) -> bool:
        return self.rng.random() < 0.85

    def build(self, method: str, path: str, *, headers: list, query=None, body=None, mutate: bool | None = None,
              fix=None, protect: set = frozenset(), known_keys=PROTOCOL_KEYS, json_ok: bool = True,
              cookie: str | None = None, safe_method: bool = False) -> Req:
        """A request from its valid parts -- query and body as lists of pairs (form) or a dict
        (JSON) or bytes -- bent `count` times when mutating, then encoded. `safe_method`: the
        path names an object the campaign relies on, so the method never turns destructive."""
        r, m = self.rng, self.mut
        if mutate is None:
            mutate = self.mutating()
        query = list(query) if isinstance(query, list) else query
        body = list(body) if isinstance(body, list) else (dict(body) if isinstance(body, dict) else body)
        malformed_q = malformed_b = json_text = False
        as_json = False
        if mutate:
            for _ in range(m.count()):
                wq = 4.0 if query else 0.6
                wb = 4.0 if body is not None else 0.4
                target = r.choices(["query", "body", "headers", "method", "path", "encoding"],
                                   weights=[wq, wb, 2.5, 0.4, 0.8, 1.0])[0]
                if target == "query":
                    if query is None or isinstance(query, str):
                        query = [(m.key(m.letters(4)), m.hostile("url"))]
                    else:
                        query = m.pairs(query, known_keys)
                        malformed_q = malformed_q or r.random() < 0.15
                elif target == "body":
                    if isinstance(body, list):
                        body = m.pairs(body, known_keys)
                        malformed_b = malformed_b or r.random() < 0.15
                    elif isinstance(body, dict):
                        json_text = True
                    elif isinstance(body, bytes) and body:
                        i = r.randrange(len(body))
                        body = body[:i] + enc(m.hostile()) + body[i + 1:]
                    else:
                        body = r.choice([[(m.letters(4), m.hostile())], enc(m.hostile()), {"a": m.hostile()}])
                        if not any(k.lower() == "content-type" for k, _ in headers):
                            headers = headers + [("Content-Type", r.choice([FORM, JSON, "text/plain"]))]
                elif target == "headers":
                    headers = m.headers(headers, self.ctx.host_header, cookie)
                elif target == "method":
                    method = m.method(safe_method)
                elif target == "path":
                    path = m.path(path)
                elif isinstance(body, list) and json_ok and r.random() < 0.5:
                    as_json = True  # the same parameters as JSON (which the protocol endpoints accept)
                    headers = [(k, v) for k, v in headers if k.lower() != "content-type"] + [("Content-Type", JSON)]
                else:
                    headers = m.headers(headers, self.ctx.host_header, cookie) if r.random() < 0.3 else \
                        [(k, v) for k, v in headers if k.lower() != "content-type"] + (
                            [] if r.random() < 0.3 else [("Content-Type", r.choice(
                                ["text/plain", JSON, FORM + "; charset=iso-8859-1", "multipart/form-data; boundary=--x",
                                 "application/octet-stream", FORM]))])
        if fix is not None:
            for pairs in (query, body):
                if isinstance(pairs, list):
                    fix(pairs)
        target = path
        if isinstance(query, list) and (query or mutate):
            qs = m.encode_pairs(query, in_url=True, malformed=malformed_q, protect=protect)
            target = path + ("?" + qs if qs or r.random() < 0.5 else "")
        elif isinstance(query, str):
            target = path + "?" + query
        if isinstance(body, list):
            if as_json:
                obj = {}
                for k, v in body:
                    obj[k] = v if r.random() < 0.9 else r.choice([1, 1.5, None, [v], {"v": v}, True])
                data = enc(json.dumps(obj)) if r.random() < 0.7 else m.json_text(obj)
            else:
                data = enc(m.encode_pairs(body, in_url=False, malformed=malformed_b, protect=protect))
        elif isinstance(body, dict):
            data = m.json_text(body) if json_text else enc(json.dumps(body))
        else:
            data = body
        if data is None and method.upper() in ("POST", "PUT", "PATCH") and r.random() < 0.7:
            data = b""
        return Req(method, target, headers, data)

    def decoy(self, user_key: str, pw_key: str):
        """A fix for sign-in parameters: when the password is not the real one, the user
        name is not a real account, so the campaign never locks out the accounts it uses."""
        def fix(pairs: list):
            pws = [v for k, v in pairs if k == pw_key]
            if pws and all(v in self.real_passwords for v in pws):
                return
            for i, (k, v) in enumerate(pairs):
                if isinstance(v, str) and any(loc in v.lower() for loc in self.real_locals):
                    pairs[i] = (k, "decoy-%d@example.com" % self.rng.randrange(10_000))
        return fix

    def session(self, weights: dict, garbage_from: str = "member"):
        """(name, cookie value or None, csrf, Cookie header or None) for one request. A
        garbage cookie is made from session `garbage_from`'s (some variants carry it whole):
        templates that may end a session pass one that is meant to end."""
        r = self.rng
        names = list(weights)
        name = r.choices(names, weights=[weights[n] for n in names])[0]
        if name == "admin" and "admin" not in self.creds.sessions:
            name = "member"
        if name == "garbage":
            good = self.creds.sessions.get(garbage_from, (None, ""))[0]
            return name, None, self.mut.token(43), self.mut.cookie(good)
        if name == "none":
            return name, None, r.choice(["", self.mut.token(43)]), None
        cookie, csrf = self.creds.sessions.get(name, (None, ""))
        return name, cookie, csrf, ("%s=%s" % (SESSION_COOKIE, cookie) if cookie else None)

    def std(self, cookie_header: str | None = None, **kw) -> list:
        h = self.headers(**kw)
        if cookie_header:
            h.append(("Cookie", cookie_header))
        return h

    def client_auth(self, cid: str, secret: str, pairs: list) -> list:
        """Client authentication for a token-endpoint request: Basic (valid or bent), in the
        body, by id alone, or none; returns extra headers."""
        r = self.rng
        x = r.random()
        if x < 0.6:
            return [("Authorization", self.basic(cid, secret) if r.random() < 0.75 else self.mut.basic(cid, secret))]
        if x < 0.85:
            pairs += [("client_id", cid), ("client_secret", secret)]
        elif x < 0.92:
            pairs.append(("client_id", cid))
        elif x < 0.96:
            pairs += [("client_id", cid), ("client_secret", secret)]
            return [("Authorization", self.basic(cid, secret))]
        return []

    def post_token(self, pairs: list, auth_headers: list, *, fix=None, protect=frozenset()) -> Answer:
        req = self.build("POST", "/oauth2/token", headers=self.std(ctype=FORM, extra=auth_headers), body=pairs,
                         fix=fix, protect=protect)
        return self.do(req)

    def some_token(self) -> str:
        """Any token the campaign holds, or a forgery."""
        c = self.creds
        return self.rng.choice([c.cc_token, c.user_token, c.refresh_token, c.id_token, c.cc_token,
                                self.mut.jwt(c.cc_token or "e30.e30.e30", self.secrets), self.mut.hostile("body")])

    def forged_assertion(self, iss: str, sub: str) -> str:
        r = self.rng
        now = int(time.time())
        header = {"alg": r.choice(["RS256", "ES256", "HS256", "none", "PS256", "EdDSA", "ES512"]),
                  "typ": "JWT", "kid": r.choice(["1", self.mut.token(8), "../../x", ""])}
        payload = {"iss": iss, "sub": sub, "aud": r.choice([self.args.base, self.args.base + "/oauth2/token", "x"]),
                   "exp": r.choice([now + 60, now - 60, 2**40, 0]), "iat": now, "jti": self.mut.token(12)}
        signing_input = b64u(json.dumps(header)) + "." + b64u(json.dumps(payload))
        if header["alg"] == "HS256":
            key = enc(r.choice(list(self.secrets) + [""]))
            return signing_input + "." + b64u(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())
        if header["alg"] == "none":
            return signing_input + "."
        return signing_input + "." + b64u(r.randbytes(r.choice([64, 256])))

    # -- protocol -------------------------------------------------------------------------

    def t_discovery(self):
        r = self.rng
        path = r.choice(["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/oauth2/jwks"])
        extra = []
        method = "GET"
        if r.random() < 0.15:  # a CORS preflight
            method = "OPTIONS"
            extra = [("Origin", r.choice(["https://app.example.com", "null", self.mut.hostile("header")])),
                     ("Access-Control-Request-Method", r.choice(["GET", "POST", "DELETE", "X"])),
                     ("Access-Control-Request-Headers", r.choice(["authorization", "dpop, content-type", "x-evil"]))]
        query = [(self.mut.letters(3), self.mut.hostile("url"))] if r.random() < 0.2 else None
        self.do(self.build(method, path, headers=self.std(extra=extra), query=query))

    def t_token_cc(self):
        r = self.rng
        pairs = [("grant_type", "client_credentials")]
        if r.random() < 0.4:
            pairs.append(("scope", r.choice(["read:apps", "read:apps manage:apps", "read:org read:users read:audit",
                                             "full", "read:full", "openid"])))
        if r.random() < 0.1:
            pairs.append(("resource", r.choice(["https://api.example.com", self.args.base])))
        extra = self.client_auth(self.args.client_id, self.args.client_secret, pairs)
        self.post_token(pairs, extra)

    def t_token_password(self):
        a = self.args
        pairs = [("grant_type", "password"), ("username", a.email), ("password", a.password),
                 ("scope", self.rng.choice([USER_SCOPE, "openid", USER_SCOPE + " read:apps", "read:apps"]))]
        if self.rng.random() < 0.3:  # a wrong password, on a decoy account
            pairs[2] = ("password", self.mut.value(a.password))
        extra = self.client_auth(a.user_client_id, a.user_client_secret, pairs)
        self.post_token(pairs, extra, fix=self.decoy("username", "password"), protect={"password"})

    def t_token_refresh(self):
        a, c, r = self.args, self.creds, self.rng
        scope = r.choice(["openid", "openid email", USER_SCOPE + " manage:apps", "email"]) if r.random() < 0.3 else None
        with c.rotating:  # the token is read, used and replaced by one worker at a time
            pairs = [("grant_type", "refresh_token"), ("refresh_token", c.refresh_token)]
            if scope:
                pairs.append(("scope", scope))
            extra = self.client_auth(a.user_client_id, a.user_client_secret, pairs)
            ans = self.post_token(pairs, extra)
            doc = ans.json() if ans.ok else None
            if isinstance(doc, dict) and doc.get("refresh_token"):  # it rotated: keep the new one
                c.refresh_token = doc["refresh_token"]
                c.user_token = doc.get("access_token", c.user_token)

    def t_token_code(self):
        a = self.args
        code, verifier = self.grab_code()
        pairs = [("grant_type", "authorization_code"), ("code", code or "lkc_" + self.mut.token(43)),
                 ("code_verifier", verifier or self.mut.token(64)), ("redirect_uri", REDIRECT_URI)]
        extra = self.client_auth(a.user_client_id, a.user_client_secret, pairs)
        self.post_token(pairs, extra)

    def t_token_jwt_bearer(self):
        a = self.args
        sub = self.rng.choice([a.email, "nobody@example.com", self.mut.hostile()])
        pairs = [("grant_type", self.rng.choice([JWT_BEARER, "jwt-bearer"])),
                 ("assertion", self.forged_assertion(a.user_client_id, sub)), ("scope", "openid email")]
        extra = self.client_auth(a.user_client_id, a.user_client_secret, pairs)
        self.post_token(pairs, extra)

    def t_token_assertion(self):
        a, r = self.args, self.rng
        cid = r.choice([a.client_id, a.user_client_id, self.mut.token(20)])
        pairs = [("grant_type", r.choice(["client_credentials", "refresh_token", "authorization_code"])),
                 ("client_assertion_type", ASSERTION_TYPE),
                 ("client_assertion", self.forged_assertion(cid, cid))]
        if r.random() < 0.5:
            pairs.append(("client_id", cid))
        if pairs[0][1] == "refresh_token":
            pairs.append(("refresh_token", self.creds.refresh_token))
        extra = [("Authorization", self.cc_basic())] if r.random() < 0.1 else []
        self.post_token(pairs, extra)

    def t_token_other(self):
        r, m = self.rng, self.mut
        a = self.args
        op = r.randrange(5)
        if op == 0:
            pairs = [("grant_type", r.choice(["implicit", "urn:ietf:params:oauth:grant-type:device_code",
                                              "urn:ietf:params:oauth:grant-type:token-exchange", "", "CLIENT_CREDENTIALS",
                                              "client_credentials ", m.hostile()]))]
        elif op == 1:
            pairs = []
        elif op == 2:
            pairs = [("grant_type", "client_credentials"), ("grant_type", "password")]
        elif op == 3:
            pairs = [(k, m.hostile()) for k in r.sample(PROTOCOL_KEYS, r.randint(1, 6))]
        else:
            pairs = [("grant_type", "client_credentials"), (m.letters(101), "x")]
        extra = self.client_auth(r.choice([a.client_id, a.user_client_id]), r.choice(self.secrets), pairs)
        method = "POST" if r.random() < 0.8 else m.method()
        req = self.build(method, "/oauth2/token", headers=self.std(ctype=FORM, extra=extra), body=pairs)
        self.do(req)

    def t_authorize(self):
        r = self.rng
        prompt = r.choice([None, None, None, "consent", "none", "login", "select_account", "consent login"])
        pairs, _ = self.authorize_params(prompt)
        if r.random() < 0.15:
            pairs.append(("max_age", r.choice(["0", "60", "-1", "99999999999999999999"])))
        if r.random() < 0.15:
            pairs.append(("login_hint", r.choice([self.args.email, "someone@example.com"])))
        if r.random() < 0.05:
            pairs.append(("response_mode", r.choice(["query", "fragment"])))
        _, cookie, _, cookie_header = self.session({"member": 5, "none": 2, "admin": 1, "anon": 1, "garbage": 1})
        headers = self.std(cookie_header, accept="text/html")
        if r.random() < 0.75:
            req = self.build("GET", "/oauth2/authorize", headers=headers, query=pairs, cookie=cookie)
        else:
            req = self.build("POST", "/oauth2/authorize", headers=headers + [("Content-Type", FORM)], body=pairs,
                             cookie=cookie, json_ok=False)
        ans = self.do(req)
        loc = ans.header("Location")
        if "/consent?request=" in loc:  # keep it for the consent templates
            rid = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query).get("request", [None])[0]
            if rid:
                self.creds.add("pending", rid, cap=40)

    def t_resume(self):
        rid = self.creds.pick("pending", self.rng) or self.mut.token(32)
        _, cookie, _, cookie_header = self.session({"member": 5, "none": 1, "admin": 1, "garbage": 1})
        self.do(self.build("GET", "/oauth2/authorize/resume", headers=self.std(cookie_header, accept="text/html"),
                           query=[("id", rid)], cookie=cookie))

    def introspect_like(self, path: str, token: str, user_app: float = 0.3):
        """Introspection or revocation of `token`, authenticated as the own-behalf app or (with
        probability `user_app`) as the user app."""
        a, r = self.args, self.rng
        pairs = [("token", token)]
        if r.random() < 0.3:
            pairs.append(("token_type_hint", r.choice(["access_token", "refresh_token", "id_token", "x"])))
        if r.random() >= user_app:
            extra = self.client_auth(a.client_id, a.client_secret, pairs)
        else:
            extra = self.client_auth(a.user_client_id, a.user_client_secret, pairs)
        self.do(self.build("POST", path, headers=self.std(ctype=FORM, extra=extra), body=pairs))

    def t_introspect(self):
        self.introspect_like("/oauth2/introspect", self.some_token())

    def t_revoke(self):
        # Revokes a token minted for the purpose, or a forgery -- not the shared ones, which
        # the other templates need (the refresh token, now and then: it is fetched again).
        r, c = self.rng, self.creds
        x = r.random()
        user_app = 0.3
        if x < 0.45:
            ans = self.token([("grant_type", "client_credentials")], self.cc_basic())
            tok = (ans.json() or {}).get("access_token", "") if ans.ok else ""
        elif x < 0.55:
            tok = c.take("spares") or "lkr_" + self.mut.token(43)  # a grant of its own ends
            user_app = 0.8
        else:
            tok = r.choice([self.mut.jwt(c.cc_token or "e30.e30.e30", self.secrets), c.id_token, self.mut.hostile(),
                            "lkr_" + self.mut.token(43)])
        self.introspect_like("/oauth2/revoke", tok, user_app)

    def t_userinfo(self):
        r, c = self.rng, self.creds
        tok = r.choice([c.user_token, c.user_token, c.cc_token, c.id_token, c.refresh_token])
        if r.random() < 0.5:
            auth = self.mut.bearer(tok, self.secrets)
        else:
            auth = "Bearer " + tok
        method = r.choice(["GET", "GET", "POST"])
        body = [("access_token", tok)] if method == "POST" and r.random() < 0.3 else None
        headers = self.std(auth=auth if r.random() < 0.95 else None, ctype=FORM if body is not None else None)
        self.do(self.build(method, "/oauth2/userinfo", headers=headers, body=body))

    def t_logout(self):
        # Only the sessions meant to end: the "victim" (signed in, refreshed later),
        # the anonymous one, none or garbage -- never the member's or the admin's.
        r, c = self.rng, self.creds
        _, cookie, csrf, cookie_header = self.session({"victim": 5, "anon": 2, "none": 2, "garbage": 1}, "victim")
        pairs = []
        if r.random() < 0.6:
            pairs.append(("id_token_hint", c.id_token if r.random() < 0.5 else self.mut.jwt(c.id_token or "e30.e30.e30")))
        if r.random() < 0.5:
            pairs.append(("client_id", self.args.user_client_id))
        if r.random() < 0.5:
            pairs.append(("post_logout_redirect_uri", r.choice([POST_LOGOUT_URI, REDIRECT_URI, "https://evil.example/"])))
        if r.random() < 0.5:
            pairs.append(("state", self.mut.token(12)))
        if r.random() < 0.5:
            headers = self.std(cookie_header, accept="text/html")
            req = self.build("GET", "/oauth2/logout", headers=headers, query=pairs, cookie=cookie)
        else:
            pairs.append(("csrf", csrf))
            headers = self.std(cookie_header, accept="text/html", ctype=FORM)
            req = self.build("POST", "/oauth2/logout", headers=headers, body=pairs, cookie=cookie, json_ok=False)
        self.do(req)

    # -- REST API -------------------------------------------------------------------------

    API_OPS = [
        # weight, method, path, id kind, body kind
        (3.0, "GET", "/me", None, None),
        (2.0, "GET", "/org", None, None),
        (1.5, "PATCH", "/org", None, "org"),
        (2.0, "GET", "/users", None, None),
        (0.4, "POST", "/users", None, "user"),
        (1.0, "PATCH", "/users/{id}", "user", "role"),
        (0.7, "DELETE", "/users/{id}", "user", None),
        (3.0, "GET", "/apps", None, "list_query"),
        (1.2, "POST", "/apps", None, "app"),
        (2.5, "GET", "/apps/{id}", "app_read", None),
        (1.5, "PUT", "/apps/{id}", "app", "app"),
        (0.6, "DELETE", "/apps/{id}", "app", None),
        (0.8, "POST", "/apps/{id}/enable", "app", None),
        (0.8, "POST", "/apps/{id}/disable", "app", None),
        (0.6, "POST", "/apps/{id}/secrets", "app", None),
        (1.5, "GET", "/apps/{id}/authorizations", "app_read", None),
        (0.6, "DELETE", "/apps/{id}/authorizations", "app", None),
        (2.0, "GET", "/apis", None, None),
        (1.0, "POST", "/apis", None, "api"),
        (0.6, "DELETE", "/apis/{id}", "api", None),
        (1.5, "GET", "/external-apps", None, None),
        (1.0, "PUT", "/external-apps/{id}", "ext", "approval"),
        (0.7, "DELETE", "/external-apps/{id}", "ext", None),
        (2.5, "GET", "/audit", None, "audit_query"),
        (0.3, "GET", "/audit/export", None, "export_query"),
        (1.0, "GET", "/openapi.json", None, None),
        (0.8, "GET", "/nope/{id}", "random", None),
        (0.3, "GET", "", None, None),
    ]
    API_CUM = list(itertools.accumulate(w for w, *_ in API_OPS))

    def hostile_id(self) -> str:
        r, m = self.rng, self.mut
        return r.choice([
            m.token(24), "0", "-1", "9" * 40, "a" * r.choice([300, 5000]), "../../org", "..%2F..%2Forg", "%2e%2e",
            "%00", "%ZZ", "%C3%28", pct_path("\U0001f600"), pct_path(m.hostile("url")[:2000]), "lk_" + "A" * 100,
            pct_path("' OR 1=1--"), "", "%20", "a%2Fb", ".", "..", "apps", "{client_id}", "\u00e9", "a b",
        ])

    def pick_id(self, kind: str | None):
        """(id as a path segment, the pool entry it names or None)."""
        if kind is None:
            return "", None
        r, c, a = self.rng, self.creds, self.args
        if kind != "random" and r.random() < 0.2:
            return self.hostile_id(), None
        if kind == "app_read":
            app = c.pick("apps", r)
            choice = r.choice([a.client_id, a.user_client_id, app["client_id"] if app else a.client_id])
            return pct_path(choice), None
        if kind == "app":
            app = c.pick("apps", r)
            return (pct_path(app["client_id"]), app) if app else (self.hostile_id(), None)
        if kind == "user":
            uid = c.pick("users", r)
            return (pct_path(uid), uid) if uid else (self.hostile_id(), None)
        if kind == "api":
            aid = c.pick("apis", r)
            return (pct_path(aid), aid) if aid else (self.hostile_id(), None)
        if kind == "ext":
            app = c.pick("apps", r)
            choice = a.user_client_id if r.random() < 0.2 else (app["client_id"] if app else self.mut.token(20))
            return pct_path(choice), None
        return self.hostile_id(), None

    def app_input(self) -> dict:
        r = self.rng
        tag = self.mut.letters(8)
        if r.random() < 0.6:
            return {"name": "made " + tag, "kind": "own-behalf", "grant_types": ["client_credentials"],
                    "scopes": r.choice([["read:apps"], ["read:apps", "read:org"], ["read:audit"]]),
                    "access_token_ttl": r.choice(["", "900", "3600"])}
        return {"name": "made " + tag, "kind": "on-behalf-of-user",
                "grant_types": ["authorization_code", "refresh_token"],
                "redirect_uris": ["https://app.example.com/cb", REDIRECT_URI], "scopes": ["openid", "email", "offline_access"],
                "access_token_ttl": "900", "refresh_token_ttl": "86400", "grant_ttl": "", "website_url": "https://app.example.com",
                "audience": r.choice(["internal", "everyone"]), "public_client": r.random() < 0.3,
                "id_token_alg": r.choice(["", "RS256", "ES256"]),
                "post_logout_redirect_uris": ["https://app.example.com/bye"]}

    def audit_pairs(self, prefix: str = "") -> list:
        r = self.rng
        pairs = []
        if r.random() < 0.7:
            pairs.append(("from", str(int(time.time()) - r.choice([60, 300, 3600]))))
        for key, values in [("to", [str(int(time.time()) + 60), "2100-01-01"]),
                            ("app", [self.args.client_id, self.args.user_client_id]),
                            ("action", ["token.issued", "token.", "token.*", "login", "api.call"]),
                            ("outcome", ["success", "failure"]), ("limit", ["1", "50", "200"]),
                            ("before", ["1", "999999999"])]:
            if r.random() < 0.3:
                pairs.append((key, r.choice(values)))
        return [(prefix % k if prefix else k, v) for k, v in pairs]

    def t_api(self):
        r, c, m = self.rng, self.creds, self.mut
        _, method, tpl, id_kind, body_kind = r.choices(self.API_OPS, cum_weights=self.API_CUM)[0]
        seg, entry = self.pick_id(id_kind)
        path = "/api/v1" + tpl.replace("{id}", seg)
        body = query = None
        if body_kind == "org":
            body = {k: v for k, v in [("name", "Campaign org"), ("audit_retention_days", r.choice([365, 30, 3650])),
                                      ("app_policy", r.choice(["unrestricted", "restricted"]))] if r.random() < 0.6}
        elif body_kind == "user":
            body = {"email": "made-%s@example.com" % m.letters(10), "name": "Made", "role": r.choice(["member", "auditor"]),
                    "password": SACRIFICIAL_PASSWORD}
        elif body_kind == "role":
            body = {"role": r.choice(["member", "auditor", "admin"])}
        elif body_kind == "app":
            body = self.app_input()
            if method == "PUT" and entry:
                body = dict(body, kind="own-behalf", grant_types=["client_credentials"], scopes=["read:apps"],
                            name=entry["name"])
                for k in ("redirect_uris", "post_logout_redirect_uris", "public_client", "audience"):
                    body.pop(k, None)
        elif body_kind == "api":
            tag = m.letters(10)
            body = {"name": "Made " + tag, "identifier": "https://%s.example.com/api" % tag,
                    "scopes": "%s:read Read things\n%s:write Write things" % (tag, tag)}
        elif body_kind == "approval":
            body = {"scopes": r.choice([["openid", "email"], ["openid"], ["read:apps"], []])}
        elif body_kind == "list_query":
            query = [(k, v) for k, v in [("q", r.choice(["", "made", "sacrificial"])), ("page", r.choice(["1", "2"]))]
                     if r.random() < 0.5]
        elif body_kind == "audit_query":
            query = self.audit_pairs()
        elif body_kind == "export_query":
            query = [("format", r.choice(["csv", "ndjson"]))] + self.audit_pairs()
            if not any(k == "from" for k, _ in query):
                query.append(("from", str(int(time.time()) - 120)))
        # The bearer: the own-behalf app's token (it holds the platform scopes), the member's,
        # a forgery, or none.
        x = r.random()
        if x < 0.65:
            auth = "Bearer " + c.cc_token
        elif x < 0.75:
            auth = "Bearer " + c.user_token
        elif x < 0.95:
            auth = m.bearer(r.choice([c.cc_token, c.user_token, c.id_token]), self.secrets)
        else:
            auth = None
        headers = self.std(auth=auth, ctype=JSON if body is not None else None)
        # A real app's id (app_read) is only ever read: never DELETE /apps/<the campaign's own app>.
        safe = id_kind == "app_read"
        if r.random() < 0.05:
            method = m.method(safe)
        req = self.build(method, path, headers=headers, query=query, body=body, safe_method=safe,
                         known_keys=["q", "page", "format", "from", "to", "limit"])
        ans = self.do(req)
        self.after_api(req, ans, tpl, entry)

    def after_api(self, req: Req, ans: Answer, tpl: str, entry):
        """Keeps the pools in step: what the campaign created joins them, what it deleted leaves."""
        if not ans.ok:
            return
        c = self.creds
        doc = ans.json()
        if req.method == "POST" and tpl == "/apps" and isinstance(doc, dict) and doc.get("client_id"):
            app = doc.get("app") or {}
            c.add("apps", {"client_id": doc["client_id"], "name": app.get("name", ""), "secrets": []})
        elif req.method == "POST" and tpl == "/users" and isinstance(doc, dict) and doc.get("user_id"):
            c.add("users", doc["user_id"])
        elif req.method == "POST" and tpl == "/apis" and isinstance(doc, dict) and doc.get("id"):
            c.add("apis", doc["id"])
        elif req.method == "DELETE" and entry is not None:
            if tpl == "/apps/{id}":
                c.remove_app(entry["client_id"])
            elif tpl == "/users/{id}":
                c.remove("users", entry)
            elif tpl == "/apis/{id}":
                c.remove("apis", entry)

    # -- server functions -----------------------------------------------------------------

    # endpoint -> (weight, which session it is meant for)
    SERVER_FNS = {
        "page_context": (2.0, "any"), "list_apps": (1.5, "admin"), "create_app": (0.8, "admin"),
        "get_app": (1.5, "admin"), "update_app": (0.8, "admin"), "set_app_enabled": (0.6, "admin"),
        "delete_app": (0.4, "admin"), "add_secret": (0.4, "admin"), "delete_secret": (0.4, "admin"),
        "get_org": (1.0, "admin"), "rename_org": (0.5, "admin"), "set_audit_retention": (0.5, "admin"),
        "get_external_apps": (1.0, "admin"), "set_app_policy": (0.5, "admin"), "approve_app": (0.6, "admin"),
        "remove_approval": (0.5, "admin"), "list_users": (1.0, "admin"), "create_user": (0.2, "admin"),
        "change_role": (0.5, "admin"), "remove_user": (0.3, "admin"), "list_audit": (1.2, "admin"),
        "list_apis": (1.0, "admin"), "create_api": (0.6, "admin"), "delete_api": (0.4, "admin"),
        "get_consent": (1.0, "member"), "decide_consent": (0.8, "member"),
        "app_authorizations": (1.0, "admin"), "revoke_app_authorization": (0.4, "admin"),
        "my_authorizations": (1.0, "member"), "revoke_my_authorization": (0.3, "member"),
        "login": (0.8, "login"), "logout": (0.6, "logout"),
    }
    FN_NAMES = list(SERVER_FNS)
    FN_CUM = list(itertools.accumulate(w for w, _ in SERVER_FNS.values()))
    SESSIONS_FOR = {
        "any": {"member": 3, "admin": 3, "anon": 1, "none": 1, "garbage": 1},
        "admin": {"admin": 8, "member": 1, "none": 0.5, "garbage": 0.5},
        "member": {"member": 8, "admin": 1, "none": 0.5, "garbage": 0.5},
        "login": {"anon": 8, "none": 1, "garbage": 1},
        "logout": {"victim": 5, "anon": 3, "none": 1, "garbage": 1},
    }
    FN_KEYS = ["csrf", "client_id", "app[name]", "app[kind]", "app[grant_types][]", "app[scopes][]", "user_id",
               "role", "email", "password", "name", "request", "decision", "scopes[]", "q[from]", "q[limit]",
               "api[name]", "id", "enabled", "confirm_name", "secret_id", "days", "policy", "next", "public_keys"]

    def app_form(self, own: bool | None = None) -> tuple[list, str]:
        r = self.rng
        tag = self.mut.letters(8)
        name = "made " + tag
        if own if own is not None else r.random() < 0.6:
            f = [("app[name]", name), ("app[kind]", "own-behalf"), ("app[grant_types][]", "client_credentials"),
                 ("app[scopes][]", "read:apps")]
        else:
            f = [("app[name]", name), ("app[kind]", "on-behalf-of-user"), ("app[grant_types][]", "authorization_code"),
                 ("app[grant_types][]", "refresh_token"), ("app[redirect_uris][]", "https://app.example.com/cb\n" + REDIRECT_URI),
                 ("app[scopes][]", "openid"), ("app[scopes][]", "email"), ("app[access_token_ttl]", "900"),
                 ("app[refresh_token_ttl]", "7776000"), ("app[website_url]", "https://app.example.com"),
                 ("app[audience]", r.choice(["internal", "everyone"])), ("app[id_token_alg]", r.choice(["RS256", "ES256"])),
                 ("app[post_logout_redirect_uris][]", "https://app.example.com/bye"),
                 ("app[public_client]", r.choice(["false", "true"]))]
        return f, name

    def fn_pairs(self, name: str, csrf: str):
        """The valid form of server function `name`: (pairs, the pool entry it aims at)."""
        r, c, a, m = self.rng, self.creds, self.args, self.mut
        app = c.pick("apps", r)
        sac_app = app["client_id"] if app else m.token(20)
        read_app = r.choice([a.client_id, a.user_client_id, sac_app])
        uid = c.pick("users", r) or m.token(20)
        if name in ("page_context", "get_org", "list_users", "list_apis", "my_authorizations"):
            return [], None
        if name == "list_apps":
            return [("q", r.choice(["", "made", "sacrificial"])), ("page", r.choice(["1", "2", "0"]))], None
        if name == "create_app":
            f, _ = self.app_form()
            return [("csrf", csrf)] + f + ([("public_keys", "")] if r.random() < 0.3 else []), None
        if name == "get_app":
            return [("client_id", read_app)], None
        if name == "update_app":
            f, _ = self.app_form(own=True)
            if app:
                f[0] = ("app[name]", app["name"])
            return [("csrf", csrf), ("client_id", sac_app)] + f, None
        if name == "set_app_enabled":
            return [("csrf", csrf), ("client_id", sac_app), ("enabled", r.choice(["true", "false"]))], None
        if name == "delete_app":
            return [("csrf", csrf), ("client_id", sac_app), ("confirm_name", app["name"] if app else "x")], app
        if name == "add_secret":
            return [("csrf", csrf), ("client_id", sac_app)], None
        if name == "delete_secret":
            sid = r.choice(app["secrets"]) if app and app["secrets"] else m.token(20)
            return [("csrf", csrf), ("client_id", sac_app), ("secret_id", sid)], None
        if name == "rename_org":
            return [("csrf", csrf), ("name", "Campaign")], None
        if name == "set_audit_retention":
            return [("csrf", csrf), ("days", r.choice(["365", "30", "3650"]))], None
        if name == "get_external_apps":
            return [("client_id", r.choice(["", a.user_client_id, sac_app]))], None
        if name == "set_app_policy":
            return [("csrf", csrf), ("policy", r.choice(["unrestricted", "restricted"]))], None
        if name == "approve_app":
            return [("csrf", csrf), ("client_id", r.choice([sac_app, a.user_client_id])), ("scopes[]", "openid"),
                    ("scopes[]", "email")], None
        if name == "remove_approval":
            return [("csrf", csrf), ("client_id", sac_app)], None
        if name == "create_user":
            return [("csrf", csrf), ("email", "made-%s@example.com" % m.letters(10)), ("name", "Made"),
                    ("role", r.choice(["member", "auditor"])), ("password", SACRIFICIAL_PASSWORD)], None
        if name == "change_role":
            return [("csrf", csrf), ("user_id", uid), ("role", r.choice(["member", "auditor", "admin"]))], None
        if name == "remove_user":
            return [("csrf", csrf), ("user_id", uid)], uid
        if name == "list_audit":
            return self.audit_pairs("q[%s]"), None
        if name == "create_api":
            tag = m.letters(10)
            return [("csrf", csrf), ("api[name]", "Made " + tag), ("api[identifier]", "https://%s.example.com/api" % tag),
                    ("api[scopes]", "%s:read Read things" % tag)], None
        if name == "delete_api":
            aid = c.pick("apis", r)
            return [("csrf", csrf), ("id", aid or m.token(20))], aid
        if name == "get_consent":
            return [("request", c.pick("pending", r) or m.token(32))], None
        if name == "decide_consent":
            rid = c.pick("pending", r) or m.token(32)
            return [("csrf", csrf), ("request", rid), ("decision", r.choice(["allow", "deny"]))], rid
        if name == "app_authorizations":
            return [("client_id", read_app)], None
        if name == "revoke_app_authorization":
            return [("csrf", csrf), ("client_id", sac_app if r.random() < 0.9 else a.user_client_id),
                    ("user_id", r.choice(["", uid]))], None
        if name == "revoke_my_authorization":
            return [("csrf", csrf), ("client_id", sac_app if r.random() < 0.85 else a.user_client_id)], None
        if name == "login":
            email, password = r.choice([(a.email, a.password), (a.admin_email or a.email, a.admin_password or a.password)])
            if r.random() < 0.3:
                password = m.value(password)
            pairs = [("csrf", csrf), ("email", email), ("password", password)]
            if r.random() < 0.5:
                pairs.append(("next", r.choice(["/", "/admin", "/oauth2/authorize/resume?id=" + m.token(32),
                                                "//evil.example", "/\u00e9", "/a\tb", "https://evil.example"])))
            return pairs, None
        if name == "logout":
            return [("csrf", csrf)], None
        return [], None

    def t_serverfn(self):
        r, c = self.rng, self.creds
        if r.random() < 0.03:  # an endpoint that does not exist
            name = r.choice(["nope", "LOGIN", "login/", "page_context/x", self.mut.letters(12), "%2e%2e", ""])
            pairs, entry, meant = [("csrf", "x")], None, "any"
        else:
            name = r.choices(self.FN_NAMES, cum_weights=self.FN_CUM)[0]
            meant = self.SERVER_FNS[name][1]
            pairs, entry = None, None
        # Sign-in cycles a session and sign-out ends one: their garbage comes from the
        # session meant to end, never from the member's or the admin's.
        garbage_from = "victim" if meant in ("login", "logout") else "member"
        _, cookie, csrf, cookie_header = self.session(self.SESSIONS_FOR[meant], garbage_from)
        if pairs is None:
            pairs, entry = self.fn_pairs(name, csrf)
        accept = r.choice([JSON, JSON, JSON, "text/html", "*/*"])
        extra = []
        if accept == "text/html" or r.random() < 0.1:  # a plain form post: errors go back to the referer
            extra.append(("Referer", "http://%s%s" % (self.ctx.host_header, r.choice(["/admin", "/login", "/consent?request=x"]))))
        headers = self.std(cookie_header, ctype=FORM, accept=accept, extra=extra)
        fix = self.decoy("email", "password") if name in ("login", "create_user") else None
        method = "POST" if r.random() < 0.95 else self.mut.method()
        req = self.build(method, "/api/" + name, headers=headers, body=pairs, fix=fix, protect={"password"},
                         known_keys=self.FN_KEYS, json_ok=r.random() < 0.3, cookie=cookie)
        ans = self.do(req)
        if not ans.ok:  # (a plain form post is redirected, whether it succeeded or not)
            return
        # Keep the pools in step.
        if name == "create_app":
            cid = ans.json()
            app_name = next((v for k, v in pairs if k == "app[name]"), "")
            if isinstance(cid, str) and cid:
                c.add("apps", {"client_id": cid, "name": app_name, "secrets": []})
        elif name == "delete_app" and entry:
            c.remove_app(entry["client_id"])
        elif name == "remove_user" and entry:
            c.remove("users", entry)
        elif name == "delete_api" and entry:
            c.remove("apis", entry)
        elif name == "decide_consent" and entry:
            c.remove("pending", entry)

    # -- pages, static files, operations ----------------------------------------------------

    def t_page(self):
        r, c, a = self.rng, self.creds, self.args
        path = r.choice(PAGES)
        if path == "/admin/audit/export" and r.random() < 0.7:  # exports are heavy: fewer of them
            path = "/admin/audit"
        app = c.pick("apps", r)
        cid = r.choice([a.client_id, a.user_client_id, app["client_id"] if app else a.client_id])
        path = path.replace("{id}", pct_path(cid) if r.random() < 0.85 else self.hostile_id())
        query = None
        if path == "/login":
            query = [("next", r.choice(["/", "/admin", "/oauth2/authorize/resume?id=x"]))]
            if r.random() < 0.3:
                query += [("reauth", "1"), ("login_hint", a.email)]
        elif path == "/consent":
            query = [("request", c.pick("pending", r) or self.mut.token(32))]
        elif path == "/admin":
            query = [("q", r.choice(["", "made"])), ("page", r.choice(["1", "2"]))] if r.random() < 0.5 else None
        elif path == "/admin/external-apps":
            query = [("client_id", a.user_client_id)] if r.random() < 0.5 else None
        elif path == "/admin/audit":
            query = self.audit_pairs()
        elif path == "/admin/audit/export":
            query = [("format", r.choice(["csv", "ndjson"]))] + self.audit_pairs()
            if not any(k == "from" for k, _ in query):
                query.append(("from", str(int(time.time()) - 120)))
        if query is None and r.random() < 0.2:
            query = [(self.mut.letters(3), self.mut.hostile("url"))]
        _, cookie, _, cookie_header = self.session({"admin": 7, "member": 6, "none": 3, "anon": 2, "garbage": 2})
        method = "GET" if r.random() < 0.93 else r.choice(["HEAD", "POST", self.mut.method()])
        self.do(self.build(method, path, headers=self.std(cookie_header, accept="text/html"), query=query,
                           cookie=cookie, known_keys=["next", "request", "q", "page", "client_id", "from", "format"]))

    def t_static(self):
        r = self.rng
        path = r.choice(STATIC) if r.random() < 0.85 else "/" + "/".join(self.mut.letters(5) for _ in range(r.randint(1, 4)))
        extra = []
        if r.random() < 0.3:
            extra.append(r.choice([("Range", "bytes=0-10"), ("Range", "bytes=-5"), ("Range", "bytes=999999-"),
                                   ("Range", "bytes=abc"), ("If-None-Match", "\"x\""), ("Accept-Encoding", "gzip, br"),
                                   ("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")]))
        method = "GET" if r.random() < 0.85 else r.choice(["HEAD", "POST", "PUT", "DELETE", "OPTIONS"])
        self.do(self.build(method, path, headers=self.std(accept="*/*", extra=extra)))

    def t_ops(self):
        r = self.rng
        method = "GET" if r.random() < 0.85 else r.choice(["HEAD", "POST", self.mut.method()])
        self.do(self.build(method, r.choice(OPS), headers=self.std(accept=r.choice(["*/*", "text/plain", JSON]))))


# ----------------------------------------------------------------------------------------
# Running it
# ----------------------------------------------------------------------------------------


class Context:
    """What the workers share: settings, credentials, statistics, the stop flag."""

    def __init__(self, args):
        u = urllib.parse.urlsplit(args.base)
        if u.scheme != "http" or not u.hostname:
            raise SystemExit("campaign: --base must be an http:// URL (got %r)" % args.base)
        self.args = args
        self.host, self.port, self.host_header = u.hostname, u.port or 80, u.netloc
        self.stats = Stats(args.failures)
        self.creds = Creds()
        self.abort = threading.Event()
        self.warnings = 0
        self.rotate = not args.no_rotate and self.host in ("127.0.0.1", "localhost") and self._can_rotate()
        self.setup_client = Client(self.host, self.port, args.timeout, "127.0.0.1" if self.rotate else None)

    @staticmethod
    def _can_rotate() -> bool:
        """Whether this machine lets a socket use another loopback address as its source."""
        try:
            s = socket.socket()
            s.bind(("127.7.7.7", 0))
            s.close()
            return True
        except OSError:
            return False

    def source(self, rng: random.Random) -> str | None:
        if not self.rotate:
            return None
        return "127.%d.%d.%d" % (rng.randint(1, 254), rng.randint(0, 255), rng.randint(1, 254))

    def maybe_refresh(self):
        c = self.creds
        if self.stats.campaign < c.next_refresh or not c.refreshing.acquire(blocking=False):
            return
        try:
            c.next_refresh = self.stats.campaign + REFRESH_EVERY
            rng = random.Random("%s/refresh/%d" % (self.args.seed, c.next_refresh))
            Establisher(self, self.setup_client, rng).establish(first=False)
        except Exception:  # a refresh failing must not stop the campaign
            traceback.print_exc(file=sys.stderr)
        finally:
            c.refreshing.release()


def worker(ctx: Context, index: int):
    args, stats = ctx.args, ctx.stats
    rng = random.Random("%s/worker/%d" % (args.seed, index))
    client = Client(ctx.host, ctx.port, args.timeout, ctx.source(rng))
    gen = Generator(ctx, client, rng)
    steps = 0
    while not ctx.abort.is_set() and stats.campaign < args.requests:
        try:
            gen.step()
        except Exception:
            # A fault of this script, not of the server: report the first few and go on.
            with stats.lock:
                stats.generator_errors += 1
                first = stats.generator_errors <= 3
            if first:
                traceback.print_exc(file=sys.stderr)
        steps += 1
        if steps % ROTATE_EVERY == 0:
            client.use_source(ctx.source(rng))
        ctx.maybe_refresh()
    client.close()


def progress(ctx: Context, started: float):
    """A line on stderr every 10 % of the campaign."""
    n, step = ctx.args.requests, max(1, ctx.args.requests // 10)
    mark = step
    while not ctx.abort.is_set() and ctx.stats.campaign < n:
        time.sleep(0.5)
        if ctx.stats.campaign >= mark:
            c = ctx.stats.classes
            print("campaign: %d/%d requests, %.0f s, %d 5xx, %d broken" % (
                ctx.stats.campaign, n, time.monotonic() - started, c["5xx"], c["broken"]), file=sys.stderr)
            mark += step


def replay(args) -> int:
    """Sends each request of a --failures file again, one at a time, and prints the answers."""
    u = urllib.parse.urlsplit(args.base)
    client = Client(u.hostname, u.port or 80, args.timeout)
    bad = 0
    with open(args.replay, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            headers = [(raw(base64.b64decode(k)), raw(base64.b64decode(v))) for k, v in rec["headers"]]
            body = base64.b64decode(rec["body_b64"]) if rec["body_b64"] is not None else None
            req = Req(rec["method"], rec["path"], headers, body)
            ans = client.send(req)
            failed = bool(ans.error) and not req.oversize or (ans.status or 0) >= 500
            bad += failed
            print("%s %s %s -> %s %s" % ("FAIL" if failed else "ok  ", show(req.method, 40), show(req.path, 160),
                                         ans.status if ans.status is not None else show(ans.error, 160),
                                         show(ans.body, 160)))
    client.close()
    return 1 if bad else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", required=True, help="the server, e.g. http://127.0.0.1:3000")
    p.add_argument("--requests", type=int, default=100_000, help="at least this many campaign requests")
    p.add_argument("--seed", default="1", help="seed of the random streams (reproducible runs)")
    p.add_argument("--client-id", required=True, help="an own-behalf app (client_credentials)")
    p.add_argument("--client-secret", required=True)
    p.add_argument("--user-client-id", required=True, help="an on-behalf-of-user app (authorization_code, password, refresh_token)")
    p.add_argument("--user-client-secret", required=True)
    p.add_argument("--email", required=True, help="a member user")
    p.add_argument("--password", required=True)
    p.add_argument("--admin-email", default="", help="an admin of the same organization (optional: reaches the admin portal)")
    p.add_argument("--admin-password", default="")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--timeout", type=float, default=10.0, help="seconds without an answer before it counts as broken")
    p.add_argument("--failures", default=None, help="write every 5xx and broken request in full to this file (JSON lines)")
    p.add_argument("--no-rotate", action="store_true", help="send everything from one source address")
    p.add_argument("--replay", metavar="FILE", help="send again the requests of a --failures file, then exit")
    if "--replay" in sys.argv:
        # Only the server is needed to replay.
        for action in p._actions:
            action.required = False
    args = p.parse_args()
    if args.replay:
        return replay(args)

    ctx = Context(args)
    started = time.monotonic()
    setup = Establisher(ctx, ctx.setup_client, random.Random("%s/setup" % args.seed))
    missing = setup.establish(first=True)
    if missing:
        for m in missing:
            print("campaign: cannot start without " + m, file=sys.stderr)
        return 2
    print("campaign: credentials ready (%d sacrificial apps, %d users, %d APIs, %d pending requests%s); "
          "%d requests from %d connections%s" % (
              len(ctx.creds.apps), len(ctx.creds.users), len(ctx.creds.apis), len(ctx.creds.pending),
              ", admin session" if "admin" in ctx.creds.sessions else ", no admin session",
              args.requests, args.concurrency, ", rotating loopback source addresses" if ctx.rotate else ""),
          file=sys.stderr)

    threading.Thread(target=progress, args=(ctx, started), daemon=True).start()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        for f in [pool.submit(worker, ctx, i) for i in range(args.concurrency)]:
            f.result()
    elapsed = time.monotonic() - started
    ctx.setup_client.close()

    s = ctx.stats
    c = s.classes
    print("families: " + ", ".join("%s=%d" % kv for kv in sorted(s.families.items())))
    print("statuses: " + ", ".join("%s=%d" % kv for kv in sorted(s.statuses.items(), key=lambda kv: str(kv[0]))))
    if c["closed"]:
        print("note: %d requests with a body past the %d KB limit or an unparseable request line were refused by closing the connection (allowed)"
              % (c["closed"], BODY_LIMIT // 1024))
    if s.generator_errors:
        print("note: %d templates failed inside this script (see stderr)" % s.generator_errors)
    if ctx.abort.is_set():
        print("note: stopped early: the server refused connections over and over (is it still running?)")
    print("campaign: %d requests, %d 2xx, %d 3xx, %d 4xx, %d 5xx, %d broken, %.1f s" % (
        s.total, c["2xx"], c["3xx"], c["4xx"], c["5xx"], c["broken"], elapsed))
    for kind in ("5xx", "broken"):
        for line in s.examples[kind]:
            print(line)
    if s.failures is not None:
        s.failures.close()
    return 1 if c["5xx"] + c["broken"] > 0 or ctx.abort.is_set() else 0


if __name__ == "__main__":
    sys.exit(main())
