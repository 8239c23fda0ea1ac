"""The audit viewer's queries on a million records (SQLite, the real migrations): prints the
best of five timings of each page query. `python3 benches/audit_scale.py`"""
import glob, os, random, sqlite3, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
db = sqlite3.connect(os.path.join(tempfile.mkdtemp(), "audit.db"))
for f in sorted(glob.glob(os.path.join(here, "..", "migrations", "sqlite", "*.sql"))):
    db.executescript(open(f).read())
db.execute("INSERT INTO organizations (id, name, created_at) VALUES ('o1','A',0),('o2','B',0)")
N = 1_000_000
t0 = 1_790_000_000
apps = [f"app{i}" for i in range(50)]
users = [f"user{i}" for i in range(500)]
rows = []
for i in range(N):
    org = 'o1' if i % 10 else 'o2'
    ok = random.random() < 0.97
    app = random.choice(apps)
    rows.append((t0 + i * 3, org, 'app', app, app, 'token.issued' if ok else 'token.refused', 'app', app, 'success' if ok else 'failure', '127.0.0.1', None, '{"grant_type":"client_credentials"}', app, random.choice(users) if random.random() < .3 else None))
db.executemany("INSERT INTO audit_events (at, org_id, actor_type, actor_id, actor_label, action, object_type, object_id, outcome, ip, user_agent, detail, app_id, user_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
db.commit()
db.execute("ANALYZE")
COLS = "id, at, org_id, actor_type, actor_id, actor_label, action, object_type, object_id, outcome, ip, user_agent, detail, app_id, user_id"
def q(name, where, args):
    sql = f"SELECT {COLS} FROM audit_events WHERE org_id = ?{where} ORDER BY at DESC, id DESC LIMIT 201"
    best = 1e9
    for _ in range(5):
        s = time.perf_counter(); r = db.execute(sql, ['o1', *args]).fetchall(); best = min(best, time.perf_counter() - s)
    print(f"{name:55s} {best*1000:8.2f} ms  rows={len(r)}")
q("newest page", "", [])
q("absurd range (year 1970..2100)", " AND at >= ? AND at < ?", [0, 4102444800])
q("narrow range (1 hour, oldest data)", " AND at >= ? AND at < ?", [t0 + 3600, t0 + 7200])
q("app filter", " AND app_id = ?", ['app7'])
q("user filter", " AND (user_id = ? OR (actor_type = 'user' AND actor_id = ?))", ['user42', 'user42'])
q("rare action (token.refused)", " AND action = ?", ['token.refused'])
q("action family prefix (token.)", " AND substr(action, 1, 6) = ?", ['token.'])
q("rare action family prefix (app.)", " AND substr(action, 1, 4) = ?", ['app.'])
q("failure outcome", " AND outcome = ?", ['failure'])
q("no match (action nope)", " AND action = ?", ['nope'])
q("app + failure + range", " AND at >= ? AND at < ? AND app_id = ? AND outcome = ?", [t0, t0 + 3_000_000, 'app3', 'failure'])
s=time.perf_counter()
r = db.execute("SELECT (at / 3600) * 3600 AS hour, SUM(CASE WHEN action = 'token.issued' THEN 1 ELSE 0 END), SUM(CASE WHEN action = 'token.refused' THEN 1 ELSE 0 END) FROM audit_events WHERE org_id = ? AND app_id = ? AND at >= ? AND action IN ('token.issued', 'token.refused') GROUP BY (at / 3600) * 3600", ['o1','app7', t0 + N*3 - 7*86400]).fetchall()
print(f"{'chart (7 days, one app)':55s} {(time.perf_counter()-s)*1000:8.2f} ms  hours={len(r)}")
q("cursor deep, row value", " AND (at, id) < ((SELECT c.at FROM audit_events c WHERE c.id = ? AND c.org_id = 'o1'), ?)", [N // 2 + 2, N // 2 + 2])
q("cursor deep + app, row value", " AND app_id = ? AND (at, id) < ((SELECT c.at FROM audit_events c WHERE c.id = ? AND c.org_id = 'o1'), ?)", ['app7', N // 2 + 2, N // 2 + 2])
