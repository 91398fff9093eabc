"""Workload 4: an I/O service. A ThreadingHTTPServer answers JSON requests
from 8 keep-alive connections (8 handler threads) driven by wrk for a fixed
number of requests.

    http_service.py [REQUESTS] [CONNECTIONS] [--gate]

Each request builds 40 records, encodes them as JSON, decodes them back and
checks the round trip, and answers a small JSON document. wrk (one thread)
stops after REQUESTS responses; elapsed is the time from the start to the
server's last answer. Checked: no
errors or bad answers in wrk, the server answered at least REQUESTS times,
every round trip matched. Also reports throughput and p50/p99 latency.
"""
import http.server
import json
import os
import pathlib
import signal
import subprocess
import threading
import time
import urllib.parse

from gate import Run, args

HERE = pathlib.Path(__file__).resolve().parent


def records(n):
    return [{"id": i, "name": "item-%d" % i, "price": i * 1.25, "tags": ["a", "b", str(i % 7)],
             "stock": {"here": i % 5, "there": i % 11}} for i in range(n)]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one handler thread per connection
    wbufsize = -1  # one send per answer (flushed by handle_one_request), no Nagle stall
    stats = {"served": 0, "bad": 0}
    lock = threading.Lock()
    limit = 0
    reached = threading.Event()
    reached_at = None

    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        n = int(q.get("items", ["40"])[0])
        data = records(n)
        back = json.loads(json.dumps(data))
        ok = back == data
        total = sum(r["stock"]["here"] + r["stock"]["there"] for r in back)
        body = json.dumps({"ok": ok, "items": n, "total": total}).encode()
        with self.lock:
            self.stats["served"] += 1
            self.stats["bad"] += not ok
            if self.stats["served"] == self.limit:
                Handler.reached_at = time.perf_counter()
                self.reached.set()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def process_request_thread(self, request, client_address):
        start = time.perf_counter()
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.run.span(start, time.perf_counter())

    def handle_error(self, request, client_address):
        pass  # wrk resets its connections when it stops


def main():
    requests, conns = args([10000, 8])
    run = Run()
    server = Server(("127.0.0.1", 0), Handler)
    server.run = run
    serving = run.thread(server.serve_forever, name="server", daemon=True)
    serving.start()
    url = "http://127.0.0.1:%d/work?items=40" % server.server_address[1]
    Handler.limit = requests
    start = run.gate()
    # wrk runs for a duration; its script stops sending after REQUESTS answers
    # and SIGINT ends it once the server has sent the last one.
    wrk = subprocess.Popen(["wrk", "-t1", "-c%d" % conns, "-d300s", "--latency",
                            "-s", str(HERE / "http_wrk.lua"), url, "--", str(requests)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=dict(os.environ, LC_ALL="C"))
    Handler.reached.wait(300)
    run.done()
    wrk.send_signal(signal.SIGINT)
    text = wrk.communicate()[0]
    server.shutdown()
    line = [x for x in text.splitlines() if x.startswith("wrk ")]
    if not Handler.reached.is_set() or not line:
        run.finish(False, "wrk failed (%s): %s" % (wrk.returncode, text))
    w = json.loads(line[0][4:])
    st = Handler.stats
    ok = (w["requests"] >= requests and w["bad"] == 0 and w["errors"] == 0
          and st["served"] >= requests and st["bad"] == 0)
    secs = Handler.reached_at - start
    run.finish(ok, "wrk %r, server %r" % (w, st), elapsed=secs, threads=conns + 2,
               requests=w["requests"], throughput=w["requests"] / secs,
               p50_ms=w["p50_us"] / 1e3, p99_ms=w["p99_us"] / 1e3)


if __name__ == "__main__":
    main()
