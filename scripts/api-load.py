#!/usr/bin/env python3
"""Load benchmark of the HTTP API (not a test): submits N events at once to one or more running
`eods serve` instances, answers every approval as events reach Confirm, and reports the latency
of POST /api/v1/events (p50/p95), submissions per second, and the time until all N reached the
postmortem. Standard library only.

    scripts/api-load.py --url http://127.0.0.1:8081 --url http://127.0.0.1:8082 \\
        --planner TOKEN --approver TOKEN --events 1000
"""

import argparse
import concurrent.futures
import json
import pathlib
import statistics
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent


def call(url, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", action="append", required=True, help="a server (repeatable)")
    ap.add_argument("--planner", required=True)
    ap.add_argument("--approver", required=True)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=64, help="concurrent HTTP clients")
    ap.add_argument("--brief", default=str(ROOT / "examples/s01-meetup.json"))
    args = ap.parse_args()
    brief = json.loads(pathlib.Path(args.brief).read_text())

    def submit(i):
        url = args.url[i % len(args.url)]
        t = time.perf_counter()
        status, body = call(url, args.planner, "POST", "/api/v1/events", {"brief": brief, "mode": "simulate"})
        assert status == 201, (status, body)
        return time.perf_counter() - t

    def finished():
        """Events that completed or failed, stored on the (last) server so far."""
        _, done = call(args.url[-1], args.approver, "GET", "/api/v1/events?run_status=completed&limit=1")
        _, failed = call(args.url[-1], args.approver, "GET", "/api/v1/events?run_status=failed&limit=1")
        return done["total"], failed["total"]

    # A database used before holds finished events of earlier runs: only this run's count.
    done_before, failed_before = finished()
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
        latencies = list(pool.map(submit, range(args.events)))
    submitted = time.perf_counter() - t0
    url = args.url[-1]
    decided = 0
    while True:
        _, waiting = call(url, args.approver, "GET", "/api/v1/events?run_status=awaiting_approval&limit=200")
        for e in waiting["items"]:
            if e["state"] != "confirm":
                continue
            _, pending = call(url, args.approver, "GET", f"/api/v1/approvals?status=pending&event_id={e['id']}")
            for a in pending["items"]:
                s, _ = call(url, args.approver, "POST", f"/api/v1/approvals/{a['id']}/decision",
                            {"decision": "approve", "comment": "load test"})
                decided += s == 200
        done, failed = finished()
        done, failed = done - done_before, failed - failed_before
        if done + failed >= args.events:
            break
        time.sleep(0.2)
    total = time.perf_counter() - t0
    print(f"{args.events} events on {len(args.url)} instance(s), {args.clients} clients")
    print(f"POST /api/v1/events: p50 {1000 * statistics.median(latencies):.1f} ms, "
          f"p95 {1000 * pct(latencies, 95):.1f} ms, {args.events / submitted:.0f} submissions/s")
    print(f"{decided} approvals decided; all {done} completed ({failed} failed) "
          f"{total:.1f} s after the first submission ({args.events / total:.1f} events/s end to end)")


if __name__ == "__main__":
    main()
