#!/usr/bin/env python3
"""Tapeline from a script, with nothing but Python's standard library.

Creates a measurement set from each row of a CSV file, lists your sets, fetches one and
prints it in inches. Shows the two answers every script should expect: 422 (something in
what you sent is refused — each field named) and 429 (too many calls — wait as long as the
answer says, then try again).

    TAPELINE_URL=http://127.0.0.1:3000 TAPELINE_KEY=tpl_... python3 stdlib_client.py measurements.csv

The key needs level 3 ("write own sets and patterns"). The CSV's first row names the
columns: `name`, then measurement names from GET /api/v1/measurements (values in mm,
degrees for shoulderSlope); empty cells are left out.
"""

import csv
import json
import os
import sys
import time
import urllib.error
import urllib.request

BASE = os.environ.get("TAPELINE_URL", "http://127.0.0.1:3000").rstrip("/")
KEY = os.environ["TAPELINE_KEY"]
MM_PER_INCH = 25.4


class Refused(Exception):
    """A 4xx answer: Tapeline's problem document (code, detail, field errors)."""

    def __init__(self, status, problem):
        super().__init__(problem.get("detail", ""))
        self.status = status
        self.problem = problem


def call(method, path, body=None):
    """One API call; on 429 waits as long as the answer says and tries again."""
    data = json.dumps(body).encode() if body is not None else None
    while True:
        request = urllib.request.Request(BASE + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {KEY}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request) as response:
                text = response.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            problem = json.loads(error.read() or b"{}")
            if error.code == 429:
                # Retry-After (whole seconds) is also in the problem as retry_after.
                wait = int(error.headers.get("Retry-After") or problem.get("retry_after") or 1)
                print(f"rate limited: waiting {wait} s ({problem.get('code')})")
                time.sleep(wait)
                continue
            raise Refused(error.code, problem) from None


def sets_from_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            name = row.pop("name")
            measurements = {k: float(v) for k, v in row.items() if v and v.strip()}
            yield {"name": name, "measurements": measurements}


def main(csv_path):
    for new_set in sets_from_csv(csv_path):
        try:
            created = call("POST", "/api/v1/sets", new_set)
            print(f"created set {created['id']}: {created['name']}")
        except Refused as refused:
            if refused.status != 422:
                raise
            for error in refused.problem.get("errors") or [refused.problem]:
                print(f"refused ({refused.status}): {error.get('field')}: {error.get('message') or error.get('detail')}")

    page = call("GET", "/api/v1/sets?limit=50")
    print(f"you have {page['total']} set(s):", ", ".join(s["name"] for s in page["sets"]))
    if not page["sets"]:
        return
    one = call("GET", f"/api/v1/sets/{page['sets'][0]['id']}")
    units = {m["name"]: m["unit"] for m in call("GET", "/api/v1/measurements")}
    print(f"{one['name']}, in inches:")
    for name, value in sorted(one["measurements"].items()):
        if units[name] == "mm":
            print(f"  {name}: {value / MM_PER_INCH:.2f} in")
        else:
            print(f"  {name}: {value} {units[name]}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "measurements.csv"))
