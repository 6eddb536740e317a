#!/usr/bin/env python3
"""
bench/launch/crowd.py — the first minute of a workshop on the local platform: 30 attendees clicking within 5 seconds.

Scenarios, each on a fresh Ferry (target/ferry.jar) with a repository served over HTTP on loopback:
  cold    a commit never built: builds (must be 1), all ready, time-to-ready p50/p95/max
  built   the same commit, already built, no pool: p50/p95
  pool    a workshop with a warm pool of 30: p95 time-to-ready (target: under 1 s) and Ferry's CPU
  quota   ferry.quota.total=10 and 30 attendees who each use their notebook for a while: everyone served, in
          arrival order, none refused, queue positions only going down

Usage: bench/launch/crowd.py [--attendees 30] [--window 5]     (needs python3 with Jupyter, git, java)
"""
import argparse, json, os, random, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time
import re, urllib.error, urllib.parse, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ADMIN = ("admin", "bench-secret")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=90):
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


_ADMIN_COOKIES = {}


def admin_cookie(base):
    """Logs in to the dashboard the way its form does; returns the Cookie value (FERRY_ADMIN=...)."""
    if base not in _ADMIN_COOKIES:
        with urllib.request.urlopen(base + "/admin/login", timeout=30) as r:
            page = r.read().decode()
            form_cookie = "; ".join(c.split(";")[0] for c in r.headers.get_all("Set-Cookie") or [])
        csrf = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": ADMIN[0], "password": ADMIN[1], "_csrf": csrf}).encode()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        req = urllib.request.Request(base + "/admin/login", data=form, headers={"Cookie": form_cookie})
        try:
            urllib.request.build_opener(NoRedirect).open(req, timeout=30)
            raise SystemExit("the admin login answered without a redirect")
        except urllib.error.HTTPError as e:
            if e.code != 302 or "/admin/login" in (e.headers.get("Location") or ""):
                raise SystemExit(f"the admin login failed ({e.code} {e.headers.get('Location')})")
            _ADMIN_COOKIES[base] = next(c.split(";")[0] for c in e.headers.get_all("Set-Cookie")
                                        if c.startswith("FERRY_ADMIN="))
    return _ADMIN_COOKIES[base]


def api(base, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Cookie": admin_cookie(base)}
    if body is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, headers=headers, method="POST" if data is not None or path.endswith(("/stop", "/end", "/cull")) else "GET")
    if req.get_method() == "POST" and data is None:
        req.data = b""
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"{}")


def follow(url, headers=None, seated=None):
    """Reads an event stream to its end; returns (seconds to the last event, events). Calls `seated` when the
    launch got its seat (its first 'launching' event)."""
    t0 = time.monotonic()
    req = urllib.request.Request(url, headers=dict({"Accept": "text/event-stream"}, **(headers or {})))
    events = []
    with urllib.request.urlopen(req, timeout=600) as r:
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("data: "):
                e = json.loads(line[6:])
                events.append(e)
                if seated and e.get("phase") == "launching" and sum(1 for x in events if x.get("phase") == "launching") == 1:
                    seated()
                if e.get("phase") in ("ready", "failed"):
                    break
    return time.monotonic() - t0, events


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Ferry:
    def __init__(self, work, extra):
        os.makedirs(work, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(["java", "-jar", os.path.join(ROOT, "target", "ferry.jar"), f"--server.port={self.port}",
                                      f"--ferry.local.work-dir={work}", "--ferry.repo.allowed-schemes=http",
                                      "--ferry.repo.allow-private-addresses=true", "--logging.level.root=WARN",
                                      f"--ferry.admin.password={ADMIN[1]}", *extra],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "ferry.log"), "w"),
                                     start_new_session=True)
        try:
            wait_http(self.base + "/actuator/health")
        except SystemExit:
            self.stop()
            with open(os.path.join(work, "ferry.log")) as f:
                sys.stderr.write(f.read()[-4000:])
            raise

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def crowd(n, window, fn, starts_out=None):
    """n clients starting at random moments within `window` seconds; returns their results in arrival order (and
    their start times, in seconds from the first, in `starts_out`)."""
    starts = sorted(random.uniform(0, window) for _ in range(n))
    if starts_out is not None:
        starts_out.extend(starts)
    results = [None] * n
    t0 = time.monotonic()

    def run(i):
        time.sleep(max(0, t0 + starts[i] - time.monotonic()))
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def attendee_id():
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(32))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summary(times):
    return {"p50_s": round(statistics.median(times), 2), "p95_s": round(pct(times, 95), 2), "max_s": round(max(times), 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attendees", type=int, default=30)
    ap.add_argument("--window", type=float, default=5)
    ap.add_argument("--use-seconds", type=float, default=3, help="quota scenario: how long each attendee keeps a seat")
    opts = ap.parse_args()
    if not os.path.exists(os.path.join(ROOT, "target", "ferry.jar")):
        subprocess.run(["./mvnw", "-B", "-q", "package", "-DskipTests"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="ferry-crowd-")
    http = None
    report = {"attendees": opts.attendees, "window_s": opts.window, "cores": os.cpu_count()}
    try:
        src = os.path.join(tmp, "src")
        subprocess.run(["git", "init", "-q", "-b", "main", src], check=True)
        with open(os.path.join(src, "requirements.txt"), "w") as f:
            f.write("ipykernel\n")
        with open(os.path.join(src, "lesson.ipynb"), "w") as f:
            f.write('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
        subprocess.run(["git", "-C", src, "add", "."], check=True)
        subprocess.run(["git", "-C", src, "-c", "user.email=b@b", "-c", "user.name=bench", "commit", "-qm", "lesson"], check=True)
        srv = os.path.join(tmp, "srv")
        os.makedirs(srv)
        subprocess.run(["git", "clone", "-q", "--bare", src, os.path.join(srv, "lesson.git")], check=True)
        subprocess.run(["git", "-C", os.path.join(srv, "lesson.git"), "update-server-info"], check=True)
        gport = free_port()
        http = subprocess.Popen([sys.executable, "-m", "http.server", str(gport), "--bind", "127.0.0.1"], cwd=srv,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        repo = f"http://127.0.0.1:{gport}/lesson.git"
        spec = "git/" + urllib.parse.quote(repo, safe="") + "/main"

        # cold and built, on one Ferry
        ferry = Ferry(os.path.join(tmp, "w1"), [])
        try:
            cold = crowd(opts.attendees, opts.window, lambda i: follow(f"{ferry.base}/build/{spec}"))
            builds = len(api(ferry.base, "/admin/api/snapshot")["builds"])
            report["cold"] = dict(summary([t for t, _ in cold]), builds=builds,
                                  ready=sum(1 for _, e in cold if e[-1]["phase"] == "ready"))
            print("cold ", report["cold"], flush=True)
            for s in api(ferry.base, "/admin/api/snapshot")["sessions"]:
                api(ferry.base, f"/admin/api/sessions/{s['id']}/stop")
            built = crowd(opts.attendees, opts.window, lambda i: follow(f"{ferry.base}/build/{spec}"))
            report["built_no_pool"] = dict(summary([t for t, _ in built]),
                                           ready=sum(1 for _, e in built if e[-1]["phase"] == "ready"))
            print("built", report["built_no_pool"], flush=True)
        finally:
            ferry.stop()

        # a workshop with a warm pool of 30
        ferry = Ferry(os.path.join(tmp, "w2"), [])
        try:
            now = time.time()
            w = api(ferry.base, "/admin/api/workshops", {
                "name": "Crowd", "launch": spec, "start": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 60)),
                "end": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600)),
                "expectedAttendees": opts.attendees, "poolSize": opts.attendees})
            t_warm = time.monotonic()
            while api(ferry.base, f"/admin/api/workshops/{w['slug']}")["pooled"] < opts.attendees:
                time.sleep(1)
                if time.monotonic() - t_warm > 600:
                    raise SystemExit("the pool did not fill in 10 minutes")
            warm_seconds = time.monotonic() - t_warm
            cpu0 = cpu_seconds(ferry.proc.pid)
            pooled = crowd(opts.attendees, opts.window, lambda i: follow(f"{ferry.base}/e/{w['slug']}/events",
                                                                          {"Cookie": "ferry-attendee=" + attendee_id()}))
            cpu = cpu_seconds(ferry.proc.pid) - cpu0
            report["pool"] = dict(summary([t for t, _ in pooled]), ready=sum(1 for _, e in pooled if e[-1]["phase"] == "ready"),
                                  pool_filled_in_s=round(warm_seconds, 1), ferry_cpu_s=round(cpu, 2))
            print("pool ", report["pool"], flush=True)
        finally:
            ferry.stop()

        # a total quota of 10 and 30 attendees who use their notebook for a while
        ferry = Ferry(os.path.join(tmp, "w3"), ["--ferry.quota.total=10"])
        try:
            follow(f"{ferry.base}/build/{spec}")  # build first
            for s in api(ferry.base, "/admin/api/snapshot")["sessions"]:
                api(ferry.base, f"/admin/api/sessions/{s['id']}/stop")
            served = []
            lock = threading.Lock()

            def attend(i):
                def seated():
                    with lock:
                        served.append(i)
                t, events = follow(f"{ferry.base}/build/{spec}", seated=seated)
                positions = [int(e["message"].split("You are ")[1].split()[0][:-2]) for e in events
                             if e.get("phase") == "waiting" and "You are " in e.get("message", "")]
                if events[-1]["phase"] == "ready":
                    time.sleep(opts.use_seconds)
                    sid = events[-1]["url"].rstrip("/").rsplit("/", 1)[1]
                    api(ferry.base, f"/admin/api/sessions/{sid}/stop")
                return t, events, positions

            starts = []
            quota = crowd(opts.attendees, opts.window, attend, starts)
            # FIFO: nobody is seated before someone who clicked earlier. Clicks closer together than the client's own
            # jitter (threads, connects: 50 ms here) can reach Ferry in either order, so those pairs are not judged;
            # they are counted.
            seat_rank = {i: rank for rank, i in enumerate(served)}
            pairs = [(i, j) for i in range(len(starts)) for j in range(i + 1, len(starts))]
            overtaken = [(i, j) for i, j in pairs if seat_rank[j] < seat_rank[i] and starts[j] - starts[i] > 0.05]
            close_swaps = [(i, j) for i, j in pairs if seat_rank[j] < seat_rank[i] and starts[j] - starts[i] <= 0.05]
            ready = sum(1 for _, e, _ in quota if e[-1]["phase"] == "ready")
            monotonic = all(all(a >= b for a, b in zip(p, p[1:])) for _, _, p in quota)
            waited = [p[0] for _, _, p in quota if p]
            report["quota_10"] = dict(summary([t for t, _, _ in quota]), ready=ready, refused=opts.attendees - ready,
                                      seated_in_arrival_order=not overtaken, overtaken=len(overtaken),
                                      swapped_within_50ms=len(close_swaps), positions_only_go_down=monotonic,
                                      waited=len(waited), longest_line=max(waited) if waited else 0)
            print("quota", report["quota_10"], flush=True)
        finally:
            ferry.stop()

        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        path = os.path.join(ROOT, "bench", "results", f"crowd-{time.strftime('%Y-%m-%d')}.json")
        with open(path, "w") as f:
            json.dump(report, f, indent=2)
        print(json.dumps(report, indent=2))
        print("written to", os.path.relpath(path, ROOT))
    finally:
        if http:
            http.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
