#!/usr/bin/env python3
"""Tapeline from a script, through a client generated from its OpenAPI document.

The same job as stdlib_client.py — a measurement set from each row of a CSV file, your
sets listed, one of them printed in inches — with the typed client that
openapi-python-client generates (see the README, "A generated client"):

    openapi-python-client generate --url http://127.0.0.1:3000/api/openapi.json \\
        --config examples/client-config.yaml --output-path tapeline-client
    TAPELINE_URL=http://127.0.0.1:3000 TAPELINE_KEY=tpl_... \\
        PYTHONPATH=tapeline-client python3 generated_client.py measurements.csv

Every answer is typed: a success is the resource's model, a refusal is a `Problem` with
its `code`, `detail`, the `errors` naming each field at fault (422) and `retry_after` (429).
scripts/contract.sh runs this file, unchanged, against a client generated afresh from the
running server, so a change to the document that would break such clients fails the build.
"""

import csv
import os
import sys
import time
from http import HTTPStatus

from tapeline_client import AuthenticatedClient
from tapeline_client.api.measurements import catalogue
from tapeline_client.api.sets import create_set, get_set, list_sets
from tapeline_client.models import NewSet, Problem
from tapeline_client.types import Unset

MM_PER_INCH = 25.4


def patiently(endpoint, **kwargs):
    """Calls `endpoint`; on 429 waits `retry_after` seconds, as the answer says, and again."""
    while True:
        response = endpoint.sync_detailed(**kwargs)
        problem = response.parsed
        if response.status_code == HTTPStatus.TOO_MANY_REQUESTS and isinstance(problem, Problem):
            wait = problem.retry_after if isinstance(problem.retry_after, int) else 1
            print(f"rate limited: waiting {wait} s ({problem.code})")
            time.sleep(wait)
            continue
        return response


def sets_from_csv(path, known):
    """The CSV's rows as typed bodies. The typed model has one attribute per known measurement
    and would drop a column it does not know, so the header is checked first."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        unknown = [c for c in reader.fieldnames if c != "name" and c not in known]
        if unknown:
            sys.exit(f"{path}: unknown measurement columns {unknown}: see GET /api/v1/measurements")
        for row in reader:
            name = row.pop("name")
            measurements = {k: float(v) for k, v in row.items() if v and v.strip()}
            yield NewSet.from_dict({"name": name, "measurements": measurements})


def main(csv_path):
    client = AuthenticatedClient(base_url=os.environ.get("TAPELINE_URL", "http://127.0.0.1:3000"),
                                 token=os.environ["TAPELINE_KEY"])
    with client:
        units = {m.name: m.unit.value for m in patiently(catalogue, client=client).parsed}
        for new_set in sets_from_csv(csv_path, units):
            response = patiently(create_set, client=client, body=new_set)
            if response.status_code == HTTPStatus.CREATED:
                print(f"created set {response.parsed.id}: {response.parsed.name}")
            elif response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY:
                problem = response.parsed
                errors = [] if isinstance(problem.errors, Unset) else problem.errors
                for error in errors:
                    print(f"refused (422): {error.field}: {error.message}")
            else:
                sys.exit(f"unexpected answer {response.status_code}: {response.content!r}")

        page = patiently(list_sets, client=client, limit=50).parsed
        print(f"you have {page.total} set(s):", ", ".join(s.name for s in page.sets))
        if not page.sets:
            return
        one = patiently(get_set, client=client, id=page.sets[0].id).parsed
        print(f"{one.name}, in inches:")
        for name, value in sorted(one.measurements.to_dict().items()):
            if units[name] == "mm":
                print(f"  {name}: {value / MM_PER_INCH:.2f} in")
            else:
                print(f"  {name}: {value} {units[name]}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "measurements.csv"))
