#!/usr/bin/env python3
"""Runs the S-02 conference through the EODS HTTP API as an integrator would: starts
`eods serve` on the given database (or uses --url), creates tokens for a planner and an
approver, submits examples/s02-conference.json, waits at Confirm, answers the three approvals
in the inbox and waits for the postmortem. Standard library only. Exits 0 when the event
reaches postmortem with run status completed.

    scripts/api-s02.py --eods target/debug/eods --database sqlite:///tmp/s02/eods.db
"""

import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent


def call(base, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait(what, check, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = check()
        if v:
            return v
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {what}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eods", default=str(ROOT / "target/debug/eods"), help="the eods binary")
    ap.add_argument("--database", default="sqlite://eods.db", help="database URL for the server and tokens")
    ap.add_argument("--workdir", default=".", help="where server logs go")
    ap.add_argument("--brief", default=str(ROOT / "examples/s02-conference.json"))
    args = ap.parse_args()
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)

    def token(role, name):
        out = subprocess.run([args.eods, "token", "create", "--role", role, "--name", name,
                              "--database", args.database], check=True, capture_output=True, text=True)
        return out.stdout.strip()

    planner, approver = token("planner", "s02-planner"), token("approver", "s02-approver")
    err = open(work / "serve.err", "w+")
    server = subprocess.Popen([args.eods, "serve", "--bind", "127.0.0.1:0", "--database", args.database],
                              stdout=open(work / "serve.log", "w"), stderr=err)
    try:
        def listening():
            err.seek(0)
            m = re.search(r"listening on (http://\S+)", err.read())
            if server.poll() is not None:
                sys.exit("eods serve exited: " + (work / "serve.err").read_text())
            return m and m.group(1)

        base = wait("the server", listening, 30)
        brief = json.loads(pathlib.Path(args.brief).read_text())
        status, created = call(base, planner, "POST", "/api/v1/events", {"brief": brief, "mode": "simulate"})
        assert status == 201, (status, created)
        eid = created["id"]
        print(f"POST /api/v1/events -> 201 {eid} ({created['status']}, level {created['level']})")

        def at_confirm():
            _, e = call(base, approver, "GET", f"/api/v1/events/{eid}")
            return e["state"] == "confirm" and e["run_status"] == "awaiting_approval" and e

        e = wait("Confirm", at_confirm)
        print(f"waiting at {e['state']}: {e['status_detail']}")
        _, inbox = call(base, approver, "GET", f"/api/v1/approvals?status=pending&event_id={eid}")
        for a in inbox["items"]:
            status, r = call(base, approver, "POST", f"/api/v1/approvals/{a['id']}/decision",
                             {"decision": "approve", "comment": "approved by the S-02 script"})
            assert status == 200, (status, r)
            print(f"approved {a['gate']} revision {a['artifact_revision']} -> {r['approval']['status']}")
            if a.get("summary"):
                print(f"  summary by {a['summary_by']}: {a['summary']}")
        assert len(inbox["items"]) == 3, inbox

        def finished():
            _, e = call(base, approver, "GET", f"/api/v1/events/{eid}")
            return e["run_status"] in ("completed", "failed", "blocked", "cancelled") and e

        e = wait("the postmortem", finished)
        _, pm = call(base, approver, "GET", f"/api/v1/events/{eid}/artifacts/postmortem")
        met = [m for m in pm["payload"].get("metrics", []) if m.get("met") is True]
        print(f"event {eid}: {e['state']} ({e['run_status']}), {len(e['artifacts'])} artifact types, "
              f"{e['steps']} steps, {len(met)} metric targets met")
        if (e["state"], e["run_status"]) != ("postmortem", "completed"):
            sys.exit(1)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
