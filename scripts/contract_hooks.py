"""Schemathesis hooks for scripts/contract.sh: the one rule of the API that a JSON Schema
cannot state, taught to the generator instead of being switched off.

`POST /api/v1/apikeys` takes `expires_at`, a date-time that must lie in the future and
within the instance's longest key lifetime, and refuses `expires_in` and `expires_at`
together. "In the future" is relative to the moment of the request, which no schema can
express; the document says it in words. For the examples Schemathesis generates as valid,
this hook keeps only `expires_at` and moves it to 30 days from now, so the check that valid
data is accepted still runs on every other field of the body. Invalid examples are sent
as generated (Schemathesis re-checks any case a hook changed before it judges the answer).
"""

from datetime import datetime, timedelta, timezone

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path != "/api/v1/apikeys" or case.operation.method.upper() != "POST":
        return
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("expires_at"), str):
        body.pop("expires_in", None)
        body["expires_at"] = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
