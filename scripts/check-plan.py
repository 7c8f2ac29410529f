#!/usr/bin/env python3
"""Recomputes what a plan written by `eods plan --out DIR` promises, from the files alone and
without EODS's code: every session inside the brief's days and hours (structured `hours`, the
date-times of `date_range`, and time windows written in the constraints as "HH:MM to HH:MM"),
no session in a break, a fixed budget never exceeded, line items and totals that add up, and every
currency conversion equal to quoted amount x rate. Prints each problem; exits 1 if there is any.

Usage: scripts/check-plan.py DIR [DIR ...]
Python standard library only.
"""

import json
import re
import sys
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

# Currencies whose minor unit is not 2 (ISO 4217), for rounding checks.
MINOR = {"JPY": 0, "KRW": 0, "ISK": 0, "HUF": 2, "IDR": 2, "CLP": 0, "VND": 0, "KWD": 3, "BHD": 3}
CLOCK = r"(\d{1,2})[:.h](\d{2})"
WINDOW = re.compile(CLOCK + r"\s*(?:-|–|—|to|until|and)\s*" + CLOCK, re.I)


def payload(d: Path, t: str):
    f = d / f"{t}.json"
    return json.loads(f.read_text())["payload"] if f.exists() else None


def hm(s: str) -> time:
    h, m = s.split(":")[:2]
    return time(int(h), int(m))


def parse_brief_time(s: str, tz: ZoneInfo):
    """(local date, local time or None)."""
    if "T" not in s:
        return date.fromisoformat(s), None
    dt = datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(tz)
    return dt.date(), dt.time()


def bounds(brief: dict):
    """Per day: (latest lower bound, earliest upper bound, breaks) from the brief alone."""
    tz = ZoneInfo(brief["timezone"])
    first, first_t = parse_brief_time(brief["date_range"]["start"], tz)
    last, last_t = parse_brief_time(brief["date_range"]["end"], tz)
    hours = brief.get("hours", {})
    text_windows = []
    for c in brief.get("constraints", []):
        if re.search(r"\b(talks?|sessions?|program(me)?|between|only)\b", c, re.I):
            for m in WINDOW.finditer(c):
                a = time(int(m.group(1)), int(m.group(2)))
                b = time(int(m.group(3)), int(m.group(4)))
                if a < b and not re.search(r"lunch|break|no sessions", c, re.I):
                    text_windows.append((a, b, c))
    out = {}
    d = first
    while d <= last:
        over = next((x for x in hours.get("days", []) if x["date"] == d.isoformat()), {})
        lo, hi = [], []
        for src in (over, hours):
            if "start" in src:
                lo.append(hm(src["start"]))
                break
        for src in (over, hours):
            if "end" in src:
                hi.append(hm(src["end"]))
                break
        for src in (over, hours):
            if "doors" in src:
                lo.append(hm(src["doors"]))
                break
        if d == first and first_t:
            lo.append(first_t)
        if d == last and last_t and last_t != time(0, 0):
            hi.append(last_t)
        for a, b, _ in text_windows:
            lo.append(a)
            hi.append(b)
        breaks = over.get("breaks", hours.get("breaks", []))
        out[d] = (max(lo) if lo else None, min(hi) if hi else None,
                  [(hm(b["start"]), hm(b["end"]), b.get("label", "Break")) for b in breaks])
        d += timedelta(days=1)
    return tz, out


def check(d: Path) -> list:
    problems = []
    brief = payload(d, "event_brief")
    if brief is None:
        return [f"{d}: no event_brief.json"]
    tz, days = bounds(brief)
    schedule = payload(d, "schedule")
    for s in (schedule or {}).get("sessions", []):
        st = datetime.fromisoformat(s["start"]).astimezone(tz)
        en = datetime.fromisoformat(s["end"]).astimezone(tz)
        b = days.get(st.date())
        if b is None or en.date() != st.date():
            problems.append(f"{s['id']} {st}–{en}: not on an event day")
            continue
        lo, hi, breaks = b
        if lo and st.time() < lo:
            problems.append(f"{s['id']} starts {st.time()} before {lo} on {st.date()}")
        if hi and en.time() > hi:
            problems.append(f"{s['id']} ends {en.time()} after {hi} on {st.date()}")
        for a, z, label in breaks:
            if st.time() < z and a < en.time():
                problems.append(f"{s['id']} {st.time()}–{en.time()} runs into {label} {a}–{z}")
    # Rooms and speakers are never double-booked.
    ss = (schedule or {}).get("sessions", [])
    for i, x in enumerate(ss):
        for y in ss[i + 1:]:
            if x["start"] < y["end"] and y["start"] < x["end"]:
                if x["room"] == y["room"]:
                    problems.append(f"{x['id']} and {y['id']} share {x['room']}")
                if set(x.get("speakers", [])) & set(y.get("speakers", [])):
                    problems.append(f"{x['id']} and {y['id']} share a speaker")

    total = Decimal(str(brief["budget"]["total"]))
    cur = brief["budget"]["currency"]
    cm = payload(d, "cost_model")
    if cm:
        lines = cm.get("line_items", [])
        for li in lines:
            if Decimal(li["qty"]) * Decimal(li["unit_cost"]) != Decimal(li["total"]):
                problems.append(f"cost line {li['id']}: {li['qty']} x {li['unit_cost']} != {li['total']}")
        s = sum((Decimal(li["total"]) for li in lines), Decimal(0))
        if "total" in cm and Decimal(cm["total"]) != s:
            problems.append(f"cost model total {cm['total']} != sum of lines {s}")
        if cm.get("currency", cur) != cur:
            problems.append(f"cost model in {cm.get('currency')}, the brief in {cur}")
        if brief["budget"].get("flexibility", "fixed") == "fixed" and s > total:
            problems.append(f"fixed budget {total} {cur} exceeded: the cost model totals {s}")
        for c in cm.get("conversions", []):
            q = Decimal(c["quoted_unit_cost"]["amount"])
            rate = Decimal(c["rate"]["rate"])
            exp = Decimal(10) ** -MINOR.get(c["rate"]["to"], 2)
            want = {(q * rate).quantize(exp, ROUND_HALF_UP), (q * rate).quantize(exp, ROUND_HALF_EVEN)}
            if Decimal(c["converted_unit_cost"]) not in want:
                problems.append(f"conversion of {c['line_item']}: {q} x {rate} != {c['converted_unit_cost']}")
            if c["rate"]["to"] != cur:
                problems.append(f"conversion of {c['line_item']} into {c['rate']['to']}, not {cur}")
    bl = payload(d, "budget_baseline")
    if bl:
        s = sum((Decimal(a["amount"]) for a in bl["allocations"]), Decimal(0))
        if s != Decimal(bl["total"]):
            problems.append(f"allocations sum to {s}, not the baseline total {bl['total']}")
        if brief["budget"].get("flexibility", "fixed") == "fixed" and Decimal(bl["total"]) > total:
            problems.append(f"baseline total {bl['total']} above the fixed budget {total}")
    dec = payload(d, "budget_decision")
    if dec and brief["budget"].get("flexibility", "fixed") == "fixed":
        if Decimal(dec["approved_total"]) > total:
            problems.append(f"approved total {dec['approved_total']} above the fixed budget {total}")
    return problems


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[-2])
        return 2
    bad = 0
    for arg in sys.argv[1:]:
        problems = check(Path(arg))
        n = len((payload(Path(arg), "schedule") or {}).get("sessions", []))
        if problems:
            bad += 1
            print(f"{arg}: {len(problems)} problem(s) in {n} sessions")
            for p in problems:
                print(f"  {p}")
        else:
            print(f"{arg}: ok ({n} sessions inside every stated window; sums and conversions consistent)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
