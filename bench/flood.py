"""A log-in flood for bench/routes.sh: RATE wrong-password log-ins a second against PORT until
killed, each second from a fresh loopback address (127.0.x.y) and fresh user names, as from a
botnet, so that the log-in throttle (per address and per name) never refuses one before its
argon2id verification. One process, one keep-alive connection per second: the client itself
costs next to nothing beside the server it measures. Each answer's `code` is appended to OUT.
With `refused`, the password is empty: every log-in is refused (`validation_failed`) before
the throttle and the hash, which measures the log-in path without the hash.

    python3 bench/flood.py PORT OUT [RATE] [refused]
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

port, out = int(sys.argv[1]), sys.argv[2]
rate = int(sys.argv[3]) if len(sys.argv) > 3 else 20
refused = len(sys.argv) > 4 and sys.argv[4] == "refused"
password, expected = ("", "validation_failed") if refused else ("not the password", "invalid_credentials")
lock = threading.Lock()


def second(n: int, start: float) -> None:
    source = (f"127.0.{n // 250 + 1}.{n % 250 + 1}", 0)
    conn = http.client.HTTPConnection("127.0.0.1", port, source_address=source, timeout=60)
    for i in range(rate):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body = urllib.parse.urlencode({"username": f"flood{n}-{i}", "password": password})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Origin": f"http://127.0.0.1:{port}",
        }
        try:
            conn.request("POST", "/ui/login", body, headers)
            answer = conn.getresponse().read()
            code = json.loads(answer).get("code", "?")
        except Exception as e:  # the server stopping ends the flood
            code = type(e).__name__
        with lock, open(out, "a") as f:
            f.write(f"{code}\n")
        if code != expected:
            break
    conn.close()


n = 0
begin = time.monotonic()
while True:
    start = begin + n
    threading.Thread(target=second, args=(n, start), daemon=True).start()
    n += 1
    time.sleep(max(0.0, begin + n - time.monotonic()))
