#!/usr/bin/env python3
"""Helpers of hardening/chaos.sh and hardening/soak.sh (standard library only).

  load_watch.py sample   --pid P --db DB --out SAMPLES [--interval 5] [--max-seconds N]
                         [--inject-at 300,900]
      Every INTERVAL s until the process P ends or MAX-SECONDS pass: the server's RSS
      (VmRSS), its open file descriptors (/proc/P/fd), the database's size on disk (main
      file + WAL + shared memory), its free pages, its traces (all, and those older than
      the 7-day retention), the load average. At each INJECT-AT offset, copies the first
      30,000 traces stored back-dated by 8 days (see `backdate`): the server's next sweep (every
      600 s) must delete them.
  load_watch.py backdate --db DB --rows N
      Inserts N traces dated 8 days ago into a database whose server is not running yet;
      the sweep at the server's start must delete them.
  load_watch.py report   --mode chaos|soak --db DB --account ACC --samples SAMPLES
                         --records FILE [--records FILE ...] [--window-from FILE] ...
      The summary table; exit status 1 when a property fails.

Records are the `hardening_load` example's lines (see its documentation).
"""

import argparse
import json
import os
import sqlite3
import sys
import time
from collections import Counter, defaultdict

DAY_MS = 86_400_000
RETENTION_DAYS = 7


def now_ms():
    return int(time.time() * 1000)


def connect(db, readonly=True):
    if readonly:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    else:
        con = sqlite3.connect(db, timeout=30)
    con.execute("PRAGMA busy_timeout = 30000")
    return con


def db_bytes(db):
    return sum(os.path.getsize(p) for p in (db, db + "-wal", db + "-shm") if os.path.exists(p))


def columns(con):
    return [r[1] for r in con.execute("PRAGMA table_info(traces)")]


def backdate_copy(db, limit=30_000, chunk=2_000):
    """Copies up to LIMIT real traces stored so far as traces 8 days old (ids `old_...`).

    In transactions of CHUNK rows with a pause between them: SQLite has one writer, and a
    copy of 100,000 rows in one transaction held the server's writes (its reservations and
    settlements) long enough for the soak's generator to shed requests. The server never
    meets such a writer; the soak must not measure one."""
    con = connect(db, readonly=False)
    cols = columns(con)
    exprs = []
    for c in cols:
        if c == "request_id":
            exprs.append("'old_' || substr(request_id, 5) || '_' || CAST(abs(random()) % 1000000 AS TEXT)")
        elif c == "created_at":
            exprs.append(f"created_at - {8 * DAY_MS}")
        else:
            exprs.append(c)
    # The traces stored so far: those up to the highest rowid now, copies excluded.
    (hi,) = con.execute("SELECT coalesce(max(rowid), 0) FROM traces").fetchone()
    n, lo = 0, 0
    while lo < hi and n < limit:
        with con:
            cur = con.execute(
                f"INSERT INTO traces ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM traces "
                f"WHERE rowid > ? AND rowid <= ? AND request_id LIKE 'req_%' LIMIT ?",
                (lo, min(lo + chunk, hi), limit - n),
            )
            n += cur.rowcount
        lo += chunk
        time.sleep(0.05)
    con.close()
    return n


def backdate_synthetic(db, rows):
    """N traces of the size of a real product trace, dated 8 days ago."""
    con = connect(db, readonly=False)
    cols = set(columns(con))
    at = now_ms() - 8 * DAY_MS
    attempt = {
        "n": 1, "exit_country": None, "proxy_id": None,
        "url": "http://127.0.0.1:1/amazon.com/dp/B100000000?th=1&psc=1", "final_url": None,
        "status": 200, "bytes": 1_200_000, "latency_ms": 40, "outcome": "ok", "error": None,
        "engine": "standard",
    }
    extractor = {"version": "backdated", "page_kind": "product", "found": ["title", "price", "rating", "images"]}
    base = {
        "account_id": None, "key_prefix": "backdated000", "endpoint": "amazon.product",
        "status": 200, "error_code": None, "credits_charged": 5, "latency_ms": 50,
        "attempts": json.dumps([attempt]), "extractor": json.dumps(extractor),
    }
    names = ["request_id", "created_at", "params"] + [c for c in base if c in cols]
    sql = f"INSERT INTO traces ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    with con:
        con.executemany(
            sql,
            (
                [f"old_{i:012x}", at + i, json.dumps({"query": f"B1{i:08d}"})] + [base[c] for c in names[3:]]
                for i in range(rows)
            ),
        )
    con.close()


def trace_counts(db):
    con = connect(db)
    cutoff = now_ms() - RETENTION_DAYS * DAY_MS
    total = con.execute("SELECT count(*) FROM traces").fetchone()[0]
    old = con.execute("SELECT count(*) FROM traces WHERE created_at < ?", (cutoff,)).fetchone()[0]
    free = con.execute("PRAGMA freelist_count").fetchone()[0]
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    return total, old, free, pages


def proc_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cmd_sample(a):
    injects = sorted(float(x) for x in a.inject_at.split(",") if x.strip()) if a.inject_at else []
    t0 = time.time()
    with open(a.out, "w") as out, open(a.out + ".events", "w") as events:
        out.write("t\trss_kb\tfds\tdb_bytes\tdb_free_pages\tdb_pages\ttraces\told_traces\tload1\n")
        while True:
            t = time.time() - t0
            if t > a.max_seconds:
                break
            try:
                rss = proc_rss_kb(a.pid)
                fds = len(os.listdir(f"/proc/{a.pid}/fd"))
            except (FileNotFoundError, ProcessLookupError):
                break
            try:
                total, old, free, pages = trace_counts(a.db)
            except sqlite3.Error as e:
                total = old = free = pages = -1
                events.write(f"{t:.1f}\tsample_error\t{e}\n")
            load1 = open("/proc/loadavg").read().split()[0]
            out.write(f"{t:.1f}\t{rss}\t{fds}\t{db_bytes(a.db)}\t{free}\t{pages}\t{total}\t{old}\t{load1}\n")
            out.flush()
            while injects and t >= injects[0]:
                injects.pop(0)
                try:
                    n = backdate_copy(a.db)
                    events.write(f"{t:.1f}\tbackdated\t{n}\n")
                except sqlite3.Error as e:
                    events.write(f"{t:.1f}\tbackdate_error\t{e}\n")
                events.flush()
            time.sleep(a.interval)


def cmd_spot(a):
    """Reads back N traces (spread over the run and its statuses) over the API."""
    import random
    import urllib.error
    import urllib.request

    recs = [x for x in read_records(a.records) if x["status"] > 0 and x["rid"] and x["kind"] != "no_key"]
    rng = random.Random(7)
    by_status = defaultdict(list)
    for x in recs:
        by_status[x["status"]].append(x)
    pick = []
    for group in by_status.values():
        pick += rng.sample(group, min(len(group), max(3, a.n // max(1, len(by_status)))))
    pick = pick[: max(a.n, len(by_status) * 3)]
    ok = 0
    for x in pick:
        req = urllib.request.Request(f"{a.base}/api/v1/requests/{x['rid']}", headers={"Authorization": f"Bearer {a.key}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                body = json.load(res)
            got = json.dumps(body)
            if x["rid"] in got and str(x["status"]) in got:
                ok += 1
            else:
                print(f"trace of {x['rid']} does not show its status {x['status']}: {got[:300]}", file=sys.stderr)
        except (urllib.error.URLError, ValueError) as e:
            print(f"trace of {x['rid']} ({x['status']}): {e}", file=sys.stderr)
    print(ok, len(pick))


def cmd_backdate(a):
    backdate_synthetic(a.db, a.rows)
    print(a.rows)


# --- report --------------------------------------------------------------------------


def read_records(path):
    recs = []
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 8:
                continue
            recs.append({
                "t": float(p[0]), "ms": float(p[1]), "status": int(p[2]), "code": p[3],
                "rid": p[4], "cost": p[5], "kind": p[6], "verdict": "\t".join(p[7:]),
            })
    return recs


def read_samples(path):
    rows = []
    if not path or not os.path.exists(path):
        return rows
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            v = line.rstrip("\n").split("\t")
            rows.append({k: float(x) for k, x in zip(head, v)})
    return rows


def pct(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))]


def median(values):
    return pct(values, 0.5)


def mb(b):
    return b / 1048576


class Report:
    def __init__(self):
        self.rows = []
        self.failed = []

    def row(self, what, value, detail=""):
        self.rows.append((what, value, detail))

    def check(self, name, ok, value, detail=""):
        self.row(f"{name}: {'PASS' if ok else 'FAIL'}", value, detail)
        if not ok:
            self.failed.append(name)

    def print(self):
        print("| what | value | detail |")
        print("|---|---|---|")
        for w, v, d in self.rows:
            print(f"| {w} | {v} | {d} |")
        print()
        if self.failed:
            print("FAILED: " + ", ".join(self.failed))
        else:
            print("all properties held")


def cmd_report(a):
    r = Report()
    all_recs = []
    for path in a.records:
        all_recs.extend(read_records(path))
    main = read_records(a.window_from) if a.window_from else all_recs
    samples = read_samples(a.samples)
    duration = max((x["t"] for x in main), default=0.0)

    # Answers: every one correct.
    statuses = Counter((x["status"], x["code"]) for x in all_recs)
    total = len(all_recs)
    ok2xx = sum(1 for x in all_recs if 200 <= x["status"] < 300)
    breakdown = ", ".join(
        f"{s} {c or ''}: {n}".replace(" :", ":") if s > 0 else (f"no answer: {n}" if s == 0 else f"shed by the generator: {n}")
        for (s, c), n in sorted(statuses.items(), key=lambda kv: (kv[0][0], kv[0][1]))
    )
    if a.window_from:
        r.row("requests", total, f"{len(main)} in {duration:.0f} s of soak, {total - len(main)} in the capacity probe")
    else:
        r.row("requests", total, f"in {duration:.0f} s of load")
    r.row("answers by status", ok2xx and f"{ok2xx} 2xx" or "0 2xx", breakdown)
    if a.mode == "chaos":
        kinds = Counter(x["kind"] for x in all_recs)
        r.row("requests by kind", len(kinds), ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())))
    shed = sum(1 for x in all_recs if x["status"] < 0)
    r.check("the generator kept its rate: no request due while CONCURRENCY were in flight", shed == 0,
            f"{shed} shed", "a shed request was never sent: the server fell that far behind")
    bad = [x for x in all_recs if x["verdict"] != "ok" and x["status"] >= 0]
    why = Counter(x["verdict"].split(":", 1)[1].split(";")[0].strip()[:90] for x in bad)
    r.check(
        "every answer correct (2xx, or the exact envelope with a code this request may get and Asa-Cost 0)",
        not bad, f"{len(bad)} wrong", "; ".join(f"{w}: {n}" for w, n in why.most_common(6)),
    )

    # Ledger: credits charged = 5 x 2xx answers = the Asa-Cost headers.
    con = connect(a.db)
    charged, charges = con.execute(
        "SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM ledger WHERE account_id = ? AND kind = 'charge'",
        (a.account,),
    ).fetchone()
    header_cost = sum(int(x["cost"]) for x in all_recs if x["cost"].isdigit())
    held = con.execute(
        "SELECT COUNT(*) FROM reservations WHERE account_id = ? AND state = 'held'", (a.account,)
    ).fetchone()[0]
    r.check(
        "ledger: credits charged = 5 x 2xx answers",
        charged == 5 * ok2xx and header_cost == charged and held == 0,
        f"{charged} = 5 x {ok2xx}" if charged == 5 * ok2xx else f"{charged} != 5 x {ok2xx} = {5 * ok2xx}",
        f"{charges} charge entries; sum of Asa-Cost headers {header_cost}; reservations still held {held}",
    )

    # Traces: every answered request id has its stored trace, with the answer's status.
    answered = {x["rid"]: x["status"] for x in all_recs if x["status"] > 0 and x["rid"]}
    con.execute("CREATE TEMP TABLE seen (rid TEXT PRIMARY KEY, status INTEGER)")
    con.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?)", answered.items())
    found, same = con.execute(
        "SELECT COUNT(t.request_id), COALESCE(SUM(t.status = s.status), 0) FROM seen s LEFT JOIN traces t ON t.request_id = s.rid"
    ).fetchone()
    stored = con.execute("SELECT COUNT(*) FROM traces WHERE request_id LIKE 'req_%'").fetchone()[0]
    missing = len(answered) - found
    r.check(
        "traces: every answer's request id has its stored trace",
        missing == 0 and same == found and a.dropped == 0,
        f"{found} of {len(answered)} found",
        f"{missing} missing, {found - same} with another status; traces dropped by the server (asa_traces_dropped_total) {a.dropped}; "
        f"{a.spot_ok} of {a.spot_n} read back over GET /api/v1/requests/{{id}}; traces in the database {stored}",
    )
    con.close()

    # Resources: first minute vs last minute of the run.
    def window(rows, first):
        if not rows:
            return []
        end = rows[-1]["t"]
        return [x for x in rows if (x["t"] < 60 if first else x["t"] >= end - 60)]

    s_first, s_last = window(samples, True), window(samples, False)
    if s_first and s_last:
        rss0 = median([x["rss_kb"] for x in s_first]) / 1024
        rss1 = median([x["rss_kb"] for x in s_last]) / 1024
        peak = max(x["rss_kb"] for x in samples) / 1024
        limit = max(rss0 * a.rss_growth, rss0 + 64)
        r.check(
            "memory flat: server RSS, median of the first vs the last minute",
            rss1 <= limit, f"{rss0:.0f} MB -> {rss1:.0f} MB",
            f"peak {peak:.0f} MB over {len(samples)} samples; fails past {limit:.0f} MB (x{a.rss_growth} or +64 MB)",
        )
        if a.mode == "soak":
            fd0 = max(x["fds"] for x in s_first)
            fd1 = max(x["fds"] for x in s_last)
            fd_limit = fd0 * 1.5 + 16
            r.check("file descriptors bounded: most open in the first vs the last minute", fd1 <= fd_limit,
                    f"{fd0:.0f} -> {fd1:.0f}", f"peak {max(x['fds'] for x in samples):.0f}; fails past {fd_limit:.0f}")
            page = connect(a.db).execute("PRAGMA page_size").fetchone()[0]

            def used(x):  # bytes of pages holding data (the file less its free pages)
                return (x["db_pages"] - x["db_free_pages"]) * page

            events = []
            if os.path.exists(a.samples + ".events"):
                events = [float(l.split("\t")[0]) for l in open(a.samples + ".events")]

            def per_request(sa):
                # Over consecutive samples with no back-dated copy made or swept between
                # them: those move pages in bulk.
                grown = reqs = 0
                for x, y in zip(sa, sa[1:]):
                    if x["old_traces"] or y["old_traces"] or any(x["t"] < e <= y["t"] for e in events):
                        continue
                    grown += used(y) - used(x)
                    reqs += sum(1 for q in main if x["t"] <= q["t"] < y["t"])
                return grown / max(1, reqs)

            db0, db1 = s_first[0]["db_bytes"], s_last[-1]["db_bytes"]
            per_req = per_request(samples)
            # Pages used per request in the first and the last third: linear, not worse.
            t_end = samples[-1]["t"]
            thirds = []
            for lo, hi in ((0, t_end / 3), (2 * t_end / 3, t_end)):
                sa = [x for x in samples if lo <= x["t"] <= hi]
                if len(sa) >= 2:
                    thirds.append(per_request(sa))
            linear = len(thirds) < 2 or thirds[1] <= max(thirds[0] * 1.5, thirds[0] + 512)
            r.check(
                "database: grows by its traces only (pages used per request, first vs last third), the sweep deletes expired ones",
                linear and a.sweep_ok, f"file {mb(db0):.1f} MB -> {mb(db1):.1f} MB (with WAL)",
                f"pages in use grew {per_req:.0f} B per request"
                + (f"; first third {thirds[0]:.0f} B/request, last third {thirds[1]:.0f} B/request" if len(thirds) == 2 else "")
                + f"; free pages (freed by the sweep, reused before the file grows) {s_first[0]['db_free_pages']:.0f} of {s_first[0]['db_pages']:.0f} at the start, "
                f"{s_last[-1]['db_free_pages']:.0f} of {s_last[-1]['db_pages']:.0f} at the end; sweep: {a.sweep_note}",
            )
        loads = [x["load1"] for x in samples]
        r.row("machine load average (1 min) during the run", f"{min(loads):.2f} .. {max(loads):.2f}", f"median {median(loads):.2f}")

    # Latency: p99 per 1-minute window, first vs last.
    lat = defaultdict(list)
    for x in main:
        if x["status"] > 0:
            lat[int(x["t"] // 60)].append(x["ms"])
    if lat:
        full = [w for w in sorted(lat) if (w + 1) * 60 <= duration + 1] or sorted(lat)
        w0, w1 = full[0], full[-1]
        p0, p1 = pct(lat[w0], 0.99), pct(lat[w1], 0.99)
        per_window = ", ".join(f"{pct(lat[w], 0.99):.0f}" for w in sorted(lat))
        detail = f"p50 {median(lat[w0]):.1f} -> {median(lat[w1]):.1f} ms; p99 per minute (ms): {per_window}"
        if a.mode == "soak":
            limit = max(p0 * a.p99_drift, p0 + 50)
            r.check("p99 latency does not drift: first vs last 1-minute window", p1 <= limit,
                    f"{p0:.1f} ms -> {p1:.1f} ms", detail + f"; fails past {limit:.1f} ms")
        else:
            r.row("p99 latency, first vs last 1-minute window", f"{p0:.1f} ms -> {p1:.1f} ms", detail)
    r.row("server stop", a.stopped, "SIGTERM: drains in-flight requests and flushes traces")
    if a.stopped != "clean":
        r.failed.append("server stop")
    for extra in a.note:
        k, _, v = extra.partition("=")
        r.row(k, v)
    r.print()
    sys.exit(1 if r.failed else 0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--db", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--interval", type=float, default=5)
    s.add_argument("--max-seconds", type=float, default=7200)
    s.add_argument("--inject-at", default="")
    b = sub.add_parser("backdate")
    b.add_argument("--db", required=True)
    b.add_argument("--rows", type=int, required=True)
    sp = sub.add_parser("spot")
    sp.add_argument("--base", required=True)
    sp.add_argument("--key", required=True)
    sp.add_argument("--records", required=True)
    sp.add_argument("--n", type=int, default=100)
    c = sub.add_parser("report")
    c.add_argument("--mode", choices=["chaos", "soak"], required=True)
    c.add_argument("--db", required=True)
    c.add_argument("--account", required=True)
    c.add_argument("--samples", default="")
    c.add_argument("--records", action="append", required=True)
    c.add_argument("--window-from", default="", help="records whose windows are reported (default: all)")
    c.add_argument("--dropped", type=int, default=0)
    c.add_argument("--spot-ok", type=int, default=0)
    c.add_argument("--spot-n", type=int, default=0)
    c.add_argument("--rss-growth", type=float, default=1.5)
    c.add_argument("--p99-drift", type=float, default=1.5)
    c.add_argument("--sweep-ok", type=lambda v: v == "1", default=True)
    c.add_argument("--sweep-note", default="-")
    c.add_argument("--stopped", default="clean")
    c.add_argument("--note", action="append", default=[])
    a = p.parse_args()
    {"sample": cmd_sample, "backdate": cmd_backdate, "spot": cmd_spot, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
