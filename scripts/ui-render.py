#!/usr/bin/env python3
"""Server render time of every web page for one event, from the Server-Timing header.

Plans an event through the API (default: the S-03 brief with a vendor cancellation), waits until
it waits for approvals at Confirm, then requests the dashboard, the inbox, the new-event form,
the audit viewer and every tab of the event page N times each with the session cookie and prints
p50/p95/max of the server's own time. Optionally approves the three gates and measures again once
the event reached its postmortem (more artifacts: runbook, incident log, postmortem).

    eods token create --role admin --contracts --name bench --database sqlite://bench.db
    eods serve --bind 127.0.0.1:8080 --database sqlite://bench.db &
    scripts/ui-render.py --base http://127.0.0.1:8080 --token eods_... [--brief examples/s03-large-event.json] [-n 50]

Standard library only. A measurement for the notes, not a test.
"""
import argparse
import json
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request

TABS = ["overview", "timeline", "tasks", "venue", "budget", "schedule", "risks", "logistics",
        "contingency", "communications", "revisions"]


def call(base, token, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"authorization": f"Bearer {token}",
                                          "content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def session_cookie(base, token):
    """Signs in on the page as a browser does; returns the session cookie (`eods_session=…`)."""
    with urllib.request.urlopen(base + "/ui/login") as r:
        login = r.headers["set-cookie"].split(";")[0]
        page = r.read().decode()
    at = page.index('name="csrf" value="') + len('name="csrf" value="')
    csrf = page[at:page.index('"', at)]
    body = urllib.parse.urlencode({"token": token, "csrf": csrf}).encode()
    req = urllib.request.Request(base + "/ui/login", data=body, method="POST",
                                 headers={"cookie": login,
                                          "content-type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.build_opener(_NoRedirect).open(req)
    except urllib.error.HTTPError as e:
        if e.code != 303:
            raise
        for c in e.headers.get_all("set-cookie"):
            if c.startswith("eods_session="):
                return c.split(";")[0]
    raise SystemExit("signing in on the page failed")


def server_ms(base, cookie, path):
    req = urllib.request.Request(base + path, headers={"cookie": cookie})
    with urllib.request.urlopen(req) as r:
        r.read()
        timing = r.headers["server-timing"]
    return float(timing.split("dur=")[1])


def wait(base, token, eid, done):
    for _ in range(1200):
        e = call(base, token, "GET", f"/api/v1/events/{eid}")
        if done(e):
            return e
        time.sleep(0.1)
    raise SystemExit(f"event {eid} did not get there: {e['state']} / {e['run_status']}")


def measure(base, cookie, eid, n, label):
    pages = [("/ui", "dashboard"), ("/ui/approvals", "approvals"), ("/ui/events/new", "new event"),
             (f"/ui/audit?event={eid}", "audit (event)"), ("/ui/audit", "audit (all)"),
             (f"/ui/events/{eid}?tab=revisions&type=budget_decision", "revision diff")]
    pages += [(f"/ui/events/{eid}?tab={t}", f"event: {t}") for t in TABS]
    print(f"\n{label}: server time in ms over {n} requests each")
    print(f"{'page':<24}{'p50':>8}{'p95':>8}{'max':>8}")
    worst = 0.0
    for path, name in pages:
        xs = sorted(server_ms(base, cookie, path) for _ in range(n))
        p95 = xs[min(len(xs) - 1, int(0.95 * len(xs)))]
        worst = max(worst, xs[-1])
        print(f"{name:<24}{statistics.median(xs):>8.2f}{p95:>8.2f}{xs[-1]:>8.2f}")
    print(f"slowest single request: {worst:.2f} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True, help="an admin token (approves the gates)")
    ap.add_argument("--brief", default="examples/s03-large-event.json")
    ap.add_argument("-n", type=int, default=50)
    ap.add_argument("--incident", default="vendor_cancellation")
    args = ap.parse_args()
    brief = json.load(open(args.brief))
    created = call(args.base, args.token, "POST", "/api/v1/events",
                   {"brief": brief, "mode": "simulate",
                    "incidents": [args.incident] if args.incident else []})
    eid = created["id"]
    wait(args.base, args.token, eid, lambda e: e["run_status"] == "awaiting_approval")
    cookie = session_cookie(args.base, args.token)
    measure(args.base, cookie, eid, args.n, f"{brief['title']} waiting at Confirm")
    for a in call(args.base, args.token, "GET", f"/api/v1/approvals?status=pending")["items"]:
        if a["event_id"] == eid:
            call(args.base, args.token, "POST", f"/api/v1/approvals/{a['id']}/decision",
                 {"decision": "approve", "comment": "render benchmark"})
    wait(args.base, args.token, eid, lambda e: e["run_status"] == "completed")
    measure(args.base, cookie, eid, args.n, f"{brief['title']} after its postmortem")


if __name__ == "__main__":
    main()
