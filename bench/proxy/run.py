#!/usr/bin/env python3
"""
bench/proxy/run.py — Ferry's proxy against a direct connection, JupyterHub's configurable-http-proxy (CHP 5) and
nginx as a reverse proxy, in one run on this machine, all on loopback with the same routes to the same upstreams:
nginx serving static files, and a node WebSocket echo server.

Prints one table of absolute figures and ratios (Ferry/direct, Ferry/CHP, Ferry/nginx) and writes the same as JSON
to bench/results/proxy-<date>.json. See bench/README.md.

Usage: bench/proxy/run.py [--rounds 3] [--duration 5] [--idle 2000] [--idle-seconds 60] [--storm 10000] [--java /path/to/java]
Needs: wrk and nginx (Debian: wrk nginx-light), node + npm (npm ci here), a built target/ferry.jar (built if missing).
"""
import argparse, datetime, json, os, platform, re, resource, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NODE_TOOL = os.path.join(HERE, "ws-tool.mjs")
# A bounded heap, as an operator would run the portal: the default (a quarter of RAM) lets RSS grow with garbage.
FERRY_FLAGS = ["-XX:+UseG1GC", "-Xmx512m"] + os.environ.get("FERRY_EXTRA_FLAGS", "").split()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on port {port} after {timeout} s")


def proc_tree(pid):
    """pid and all its descendants."""
    pids, frontier = [pid], [pid]
    while frontier:
        p = frontier.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        pids += kids
        frontier += kids
    return pids


def usage(pid):
    """CPU seconds, RSS (KiB), open fds, threads and sockets of a process tree."""
    cpu = rss = fds = threads = sockets = 0
    tick = os.sysconf("SC_CLK_TCK")
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / tick
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    if line.startswith("Threads:"):
                        threads += int(line.split()[1])
            for fd in os.listdir(f"/proc/{p}/fd"):
                fds += 1
                try:
                    if os.readlink(f"/proc/{p}/fd/{fd}").startswith("socket:"):
                        sockets += 1
                except OSError:
                    pass
        except (OSError, IndexError):
            pass
    return {"cpu": cpu, "rss_kib": rss, "fds": fds, "threads": threads, "sockets": sockets}


def static_files(work):
    """The upstream's files under work/www: /user/bench-http/small.txt (512 B) and big.bin (1 MiB)."""
    docroot = os.path.join(work, "www", "user", "bench-http")
    os.makedirs(docroot)
    with open(os.path.join(docroot, "small.txt"), "wb") as f:
        f.write(b"x" * 512)
    with open(os.path.join(docroot, "big.bin"), "wb") as f:
        f.write(os.urandom(1024 * 1024))
    for d in (os.path.join(work, "www"), os.path.join(work, "www", "user"), docroot):
        os.chmod(d, 0o755)  # nginx workers run as an unprivileged user and must read them


def nginx_config(work, port, body):
    """An nginx configuration listening on loopback:port with `body` in its server block (and `}}` tricks after it)."""
    return f"""
daemon off; worker_processes 2; pid {work}/nginx-{port}.pid; error_log {work}/nginx-{port}.err warn;
events {{ worker_connections 16384; }}
http {{ access_log off; keepalive_requests 1000000; client_body_temp_path {work}/body-{port};
  proxy_temp_path {work}/proxy-{port}; fastcgi_temp_path {work}/f-{port}; uwsgi_temp_path {work}/u-{port}; scgi_temp_path {work}/s-{port};
  server {{ listen 127.0.0.1:{port}; {body} }} }}"""


def start_process(work, procs, cmd, **kw):
    """Starts cmd in its own process group (stopped as a whole at the end), its stderr in work/<n>.log."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"{len(procs)}.log"), "w"),
                         start_new_session=True, **kw)
    procs.append(p)
    return p


def start_chp(start, routes):
    """configurable-http-proxy on a free loopback port with /user/<name> routed to each 127.0.0.1:<port> of routes."""
    cport, capi = free_port(), free_port()
    chp = start(["node", os.path.join(HERE, "node_modules", "configurable-http-proxy", "bin", "configurable-http-proxy"),
                 "--ip", "127.0.0.1", "--port", str(cport), "--api-ip", "127.0.0.1", "--api-port", str(capi),
                 "--log-level", "error"], env=dict(os.environ, CONFIGPROXY_AUTH_TOKEN="bench"))
    wait_port(capi)
    for name, port in routes.items():
        subprocess.run(["curl", "-sf", "-X", "POST", "-H", "Authorization: token bench", "-d",
                        json.dumps({"target": f"http://127.0.0.1:{port}"}),
                        f"http://127.0.0.1:{capi}/api/routes/user/{name}"], check=True)
    return chp, cport


def ferry_flags(java):
    """FERRY_FLAGS, plus on JDK 24+ the options docs/configuration.md ("The JVM") tells operators to run Ferry with."""
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    version = re.search(r'version "(\d+)', out)
    if not version:
        raise SystemExit(f"{java} -version says no version: {out!r}")
    jdk24 = ["--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED"] if int(version.group(1)) >= 24 else []
    return jdk24 + FERRY_FLAGS  # FERRY_EXTRA_FLAGS (in FERRY_FLAGS) come last and can override them


def newest_java():
    return next((j for j in ["/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"] if os.path.exists(j)), "java")


def wrk(url, connections, seconds, script=None):
    threads = 1 if connections == 1 else 2
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    mb = float(transfer.group(1)) * {"B": 1 / 1048576, "KB": 1 / 1024, "MB": 1, "GB": 1024}[transfer.group(2)]
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        lat[pct] = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else None
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": lat["50"], "p99_ms": lat["99"], "mb_per_s": mb,
            "non_2xx": int(errors.group(1)) if errors else 0}


def scrape(port):
    """From Ferry's /metrics (MiB): heap used, its old generation and the front door's buffer pool."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    heap = old = pool = 0.0
    for line in text.splitlines():
        if line.startswith("jvm_memory_used_bytes{") and 'area="heap"' in line:
            value = float(line.rsplit(" ", 1)[1])
            heap += value
            old += value if "Old Gen" in line else 0
        elif line.startswith("ferry_proxy_buffer_memory_bytes "):
            pool = float(line.rsplit(" ", 1)[1])
    return {"heap": heap / 1048576, "old_gen": old / 1048576, "buffer_pool": pool / 1048576}


def memory_during(port, load):
    """
    Ferry's memory while load() runs, sampled every 100 ms: before, peak and growth of the old generation (G1 puts
    every array of half a region or more there at once, so a body held whole would show) and of the front door's
    buffer pool (direct memory). Flat: neither grows by as much as one 10 MiB body.
    """
    samples, stop = [], threading.Event()
    before = scrape(port)

    def sample():
        while not stop.wait(0.1):
            samples.append(scrape(port))
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        load()
    finally:
        stop.set()
        sampler.join()
    peak = {k: max([before[k]] + [x[k] for x in samples]) for k in before}
    growth = {k: round(peak[k] - before[k], 1) for k in ("old_gen", "buffer_pool")}
    return {"samples": len(samples), "before_mib": {k: round(v, 1) for k, v in before.items()},
            "peak_mib": {k: round(v, 1) for k, v in peak.items()}, "growth_mib": growth,
            "flat": all(g < 10 for g in growth.values())}


def node(*args, timeout=900):
    out = subprocess.run(["node", NODE_TOOL, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise SystemExit(f"ws-tool {args[0]} failed: {out.stderr[-500:]}")
    return json.loads(lines[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=5, help="seconds per small-GET load step")
    ap.add_argument("--rounds", type=lambda v: max(1, int(v)), default=3, help="rounds of the timed cases (median kept)")
    ap.add_argument("--idle", type=int, default=2000, help="idle WebSockets held open")
    ap.add_argument("--idle-seconds", type=int, default=60)
    ap.add_argument("--storm", type=int, default=10000, help="requests in the stopped-session leak check")
    ap.add_argument("--java", default=None, help="java executable for Ferry (default: the newest JDK found)")
    ap.add_argument("--only", default="direct,ferry,chp,nginx")
    ap.add_argument("--out", default=None, help="file name under bench/results (default: proxy-<date>.json)")
    ap.add_argument("--warmup", type=int, default=20, help="seconds of warm-up load per proxy (HTTP and WebSocket each)")
    opts = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for tool in ("wrk", "nginx", "node"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            raise SystemExit(f"{tool} is missing: apt-get install wrk nginx-light nodejs")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "configurable-http-proxy")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    jar = os.path.join(ROOT, "target", "ferry.jar")
    if not os.path.exists(jar):
        subprocess.run(["./mvnw", "-B", "-q", "package", "-DskipTests"], cwd=ROOT, check=True)
    java = opts.java or newest_java()
    java_version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    flags = ferry_flags(java)

    work = tempfile.mkdtemp(prefix="ferry-bench-")
    os.chmod(work, 0o755)  # nginx workers run as an unprivileged user and must read the static files
    procs = []

    def start(cmd, **kw):
        return start_process(work, procs, cmd, **kw)

    try:
        # Upstreams: nginx with static files (and an upload sink), node WebSocket echo.
        static_files(work)
        up_http, up_ws, dead = free_port(), free_port(), free_port()
        nginx_conf = lambda port, body: nginx_config(work, port, body)
        conf = os.path.join(work, "upstream.conf")
        with open(conf, "w") as f:
            f.write(nginx_conf(up_http, f"root {work}/www;"))
        start(["nginx", "-c", conf, "-p", work])
        start(["node", NODE_TOOL, "echo", str(up_ws)])
        wait_port(up_http)
        wait_port(up_ws)

        targets = {"direct": None}
        ports = {"direct": (up_http, up_ws)}
        # Ferry
        if "ferry" in opts.only:
            fport = free_port()
            ferry = start([java, *flags, "-jar", jar, f"--server.port={fport}", "--server.address=127.0.0.1",
                           f"--ferry.local.work-dir={work}/ferry", "--logging.level.root=WARN",
                           f"--ferry.proxy.routes.bench-http=http://127.0.0.1:{up_http}",
                           f"--ferry.proxy.routes.bench-ws=http://127.0.0.1:{up_ws}",
                           f"--ferry.proxy.routes.bench-dead=http://127.0.0.1:{dead}",
                           # every client here is 127.0.0.1: the idle case holds 2000 WebSockets from it
                           "--ferry.proxy.max-connections-per-address=0"])
            wait_port(fport)
            targets["ferry"], ports["ferry"] = ferry.pid, (fport, fport)
        # configurable-http-proxy
        if "chp" in opts.only:
            chp, cport = start_chp(start, {"bench-http": up_http, "bench-ws": up_ws, "bench-dead": dead})
            targets["chp"], ports["chp"] = chp.pid, (cport, cport)
        # nginx as a reverse proxy
        if "nginx" in opts.only:
            nport = free_port()
            pconf = os.path.join(work, "proxy.conf")
            with open(pconf, "w") as f:
                f.write(nginx_conf(nport, f"""
    client_max_body_size 64m; proxy_http_version 1.1; proxy_buffering on; proxy_request_buffering off;
    proxy_read_timeout 600s; proxy_set_header Host $host;
    location /user/bench-http/ {{ proxy_set_header Connection ""; proxy_pass http://http_up; }}
    location /user/bench-ws/ {{ proxy_pass http://127.0.0.1:{up_ws}; proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade; }}
    location /user/bench-dead/ {{ proxy_pass http://127.0.0.1:{dead}; proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade"; }}
  }}
  map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
  upstream http_up {{ server 127.0.0.1:{up_http}; keepalive 256;"""))
            ngx = start(["nginx", "-c", pconf, "-p", work])
            wait_port(nport)
            targets["nginx"], ports["nginx"] = ngx.pid, (nport, nport)

        upload_lua = os.path.join(work, "upload.lua")
        with open(upload_lua, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = string.rep("u", 10 * 1024 * 1024)\n'
                    'wrk.headers["Content-Type"] = "application/octet-stream"\n')

        # Timed cases: every contender takes its turn in each round, and the median round is kept. On a shared machine
        # the load around a proxy shifts from minute to minute; taking turns gives every contender the same minutes.
        def urls(name):
            hport, wport = ports[name]
            return f"http://127.0.0.1:{hport}/user/bench-http", f"ws://127.0.0.1:{wport}/user/bench-ws/echo", hport, wport

        cases = [(f"get_small_c{c}", "rps", lambda n, c=c: wrk(urls(n)[0] + "/small.txt", c, opts.duration))
                 for c in (1, 10, 50)]
        cases += [("download_1mib", "mb_per_s", lambda n: wrk(urls(n)[0] + "/big.bin", 1, 5)),
                  # uploads go to the node server (it reads the whole body, then answers 204)
                  ("upload_10mib", "mb_per_s_up", lambda n: upload(urls(n)[3])),
                  ("ws_rtt_c1", "perSecond", lambda n: node("rtt", urls(n)[1], 1, 5, 100)),
                  ("ws_rtt_c10", "perSecond", lambda n: node("rtt", urls(n)[1], 10, 5, 100))]
        def upload(port):
            out = wrk(f"http://127.0.0.1:{port}/user/bench-ws/upload", 1, 5, upload_lua)
            out["mb_per_s_up"] = round(out["rps"] * 10, 1)
            return out

        once = [("ws_1mib", lambda n: node("big", urls(n)[1], 1024 * 1024, 50)),
                ("ws_16mib", lambda n: node("big", urls(n)[1], 16 * 1024 * 1024, 5))]

        def measure(name, fn):
            pid = targets[name]
            before = usage(pid) if pid else None
            value = fn(name)
            if pid:
                after = usage(pid)
                value["proxy_cpu_s"] = round(after["cpu"] - before["cpu"], 2)
                value["proxy_rss_mib"] = round(after["rss_kib"] / 1024, 1)
            return value

        for name in targets:
            # warm-up: the JVM compiles its hot paths in the first tens of thousands of requests
            wrk(urls(name)[0] + "/small.txt", 10, opts.warmup)
            node("rtt", urls(name)[1], 10, opts.warmup, 100)
        rounds = {}
        names = list(targets)
        for r in range(opts.rounds):
            order = names[r % len(names):] + names[:r % len(names)]  # nobody always goes first, or last
            for key, _, fn in cases:
                for name in order:
                    value = measure(name, fn)
                    rounds.setdefault((name, key), []).append(value)
                    print(f"  round {r + 1} {name:6} {key:16} {json.dumps(value)}", flush=True)
        results = {name: {} for name in targets}
        for (name, key), values in rounds.items():
            primary = next(p for k, p, _ in cases if k == key)
            ordered = sorted(values, key=lambda v: v[primary])
            kept = dict(ordered[len(ordered) // 2])  # the median round, with its own latencies and CPU
            kept["rounds"] = [v[primary] for v in values]
            results[name][key] = kept
        for name in targets:
            for key, fn in once:
                results[name][key] = measure(name, fn)
                print(f"  {name:6} {key:22} {json.dumps(results[name][key])}", flush=True)

        if "ferry" in targets:
            # Heap flat? Ferry only, untimed (scraping costs the proxy CPU): /metrics every 100 ms during downloads
            # and uploads, as in the timed cases.
            fport = ports["ferry"][0]
            for key, fn in (("download_1mib", lambda: wrk(urls("ferry")[0] + "/big.bin", 4, 5)),
                            ("upload_10mib", lambda: upload(urls("ferry")[3]))):
                results["ferry"].setdefault("memory", {})[key] = memory_during(fport, fn)
            print(f"  ferry  {'memory':22} {json.dumps(results['ferry']['memory'])}", flush=True)

        for name, pid in targets.items():
            hport, wport = ports[name]
            ws_base = urls(name)[1]
            r = results[name]
            # Idle WebSockets: RSS and descriptors while they are held open, from a baseline taken after a pause
            # (a proxy that has just been under load may still be giving memory back).
            if pid:
                time.sleep(10)
                before = usage(pid)
                holder = subprocess.Popen(["node", NODE_TOOL, "idle", ws_base, str(opts.idle), str(opts.idle_seconds)],
                                          stdout=subprocess.PIPE, text=True)
                opened = json.loads(holder.stdout.readline())
                time.sleep(min(10, opts.idle_seconds))
                during = usage(pid)
                held = json.loads(holder.stdout.readline())
                holder.wait()
                time.sleep(10)
                closed = usage(pid)
                # Growth counts from the RSS before opening, taken after a pause (node's heap shrinks for a while after
                # load); the RSS after closing is reported too, to show what a proxy gave back.
                base_kib = before["rss_kib"]
                r["idle_ws"] = {"opened": opened["open"], "held": held["held"], "seconds": opts.idle_seconds,
                                "rss_before_mib": round(before["rss_kib"] / 1024, 1),
                                "rss_during_mib": round(during["rss_kib"] / 1024, 1),
                                "rss_after_close_mib": round(closed["rss_kib"] / 1024, 1),
                                "rss_growth_mib": round((during["rss_kib"] - base_kib) / 1024, 1),
                                "rss_kib_per_connection": round((during["rss_kib"] - base_kib) / max(1, opened["open"]), 1),
                                "fds_during": during["fds"], "threads_during": during["threads"]}
                print(f"  {name:6} {'idle_ws':22} {json.dumps(r['idle_ws'])}", flush=True)

                # Leak check modelled on CHP's: upgrades and requests to a stopped session.
                time.sleep(3)
                base_usage = usage(pid)
                dead_ws = f"ws://127.0.0.1:{wport}/user/bench-dead/api/kernels/k/channels"
                storm_ws = node("storm", dead_ws, opts.storm, 50)
                storm_http = node("httpstorm", f"http://127.0.0.1:{hport}/user/bench-dead/api/status", opts.storm, 50)
                time.sleep(5)
                after = usage(pid)
                r["leak_check"] = {"ws_upgrades": storm_ws, "http_requests": storm_http,
                                   "before": {k: base_usage[k] for k in ("fds", "threads", "sockets")},
                                   "after": {k: after[k] for k in ("fds", "threads", "sockets")},
                                   "back_to_baseline": all(after[k] <= base_usage[k] + 2 for k in ("fds", "sockets"))}
                print(f"  {name:6} {'leak_check':22} {json.dumps(r['leak_check'])}", flush=True)

        machine = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "cores": os.cpu_count(),
                   "rounds": f"{opts.rounds} (median kept; contenders take turns)",
                   "kernel": platform.release(), "ferry_java": java_version, "ferry_flags": " ".join(flags),
                   "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
                   "chp": json.load(open(os.path.join(HERE, "node_modules", "configurable-http-proxy", "package.json")))["version"],
                   "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()}
        report(machine, results)
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        path = os.path.join(ROOT, "bench", "results", opts.out or f"proxy-{datetime.date.today().isoformat()}.json")
        with open(path, "w") as f:
            ratios = {case: {other: round(r, 3) for other in ("direct", "chp", "nginx")
                             if (r := round_ratio(results, case, other)) is not None} for case in PRIMARY}
            json.dump({"machine": machine, "results": results, "ferry_ratios_per_round_median": ratios}, f, indent=2)
        print(f"\nwritten to {os.path.relpath(path, ROOT)}")
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        time.sleep(1)
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(work, ignore_errors=True)


PRIMARY = {"get_small_c1": "rps", "get_small_c10": "rps", "get_small_c50": "rps", "download_1mib": "mb_per_s",
           "upload_10mib": "mb_per_s_up", "ws_rtt_c1": "perSecond", "ws_rtt_c10": "perSecond"}


def round_ratio(results, case, other):
    """The median of the per-round ratios Ferry/other: each compares two figures taken within minutes of each other."""
    f = results.get("ferry", {}).get(case, {}).get("rounds")
    o = results.get(other, {}).get(case, {}).get("rounds")
    if not f or not o or len(f) != len(o) or not all(o):
        return None
    return statistics.median(a / b for a, b in zip(f, o))


def report(machine, results):
    print("\n" + " | ".join(f"{k}: {v}" for k, v in machine.items()))
    rows = [("GET 512 B c=1 req/s", "get_small_c1", "rps"), ("GET 512 B c=10 req/s", "get_small_c10", "rps"),
            ("GET 512 B c=50 req/s", "get_small_c50", "rps"), ("GET c=10 p50 ms", "get_small_c10", "p50_ms"),
            ("GET c=10 p99 ms", "get_small_c10", "p99_ms"), ("GET c=50 p99 ms", "get_small_c50", "p99_ms"),
            ("download 1 MiB MB/s", "download_1mib", "mb_per_s"), ("upload 10 MiB MB/s", "upload_10mib", "mb_per_s_up"),
            ("WS rtt c=1 /s", "ws_rtt_c1", "perSecond"), ("WS rtt c=10 /s", "ws_rtt_c10", "perSecond"),
            ("WS 1 MiB msgs/s", "ws_1mib", "perSecond"), ("WS 16 MiB msgs/s", "ws_16mib", "perSecond"),
            ("WS 16 MiB intact", "ws_16mib", "intact"), ("proxy CPU s, GET c=50", "get_small_c50", "proxy_cpu_s"),
            ("proxy RSS MiB after GET c=50", "get_small_c50", "proxy_rss_mib"),
            ("2000 idle WS: RSS KiB/conn", "idle_ws", "rss_kib_per_connection"),
            ("2000 idle WS: fds", "idle_ws", "fds_during"),
            ("leak check back to baseline", "leak_check", "back_to_baseline")]
    memory = results.get("ferry", {}).get("memory")
    names = [n for n in ("direct", "ferry", "chp", "nginx") if n in results]
    header = f"{'':32}" + "".join(f"{n:>12}" for n in names) + f"{'F/direct':>10}{'F/CHP':>8}{'F/nginx':>9}"
    print(header)
    print("-" * len(header))

    def get(n, case, key):
        return results.get(n, {}).get(case, {}).get(key)

    def per_round(case, other):
        return round_ratio(results, case, other)

    for label, case, key in rows:
        vals = [get(n, case, key) for n in names]
        cells = "".join(f"{'' if v is None else (f'{v:.1f}' if isinstance(v, float) else str(v)):>12}" for v in vals)
        f = get("ferry", case, key)

        def ratio(other):
            if key == PRIMARY.get(case):
                r = per_round(case, other)
                if r is not None:
                    return f"{r:.2f}"
            o = get(other, case, key)
            return f"{f / o:.2f}" if isinstance(f, (int, float)) and isinstance(o, (int, float)) and o and not isinstance(f, bool) else ""
        print(f"{label:32}{cells}{ratio('direct'):>10}{ratio('chp'):>8}{ratio('nginx'):>9}")
    for case, m in (memory or {}).items():
        print(f"Ferry's memory during {case}: old generation {m['before_mib']['old_gen']} -> peak {m['peak_mib']['old_gen']} MiB, "
              f"buffer pool {m['before_mib']['buffer_pool']} -> {m['peak_mib']['buffer_pool']} MiB, "
              f"heap used peak {m['peak_mib']['heap']} MiB ({m['samples']} samples): {'flat' if m['flat'] else 'NOT flat'}")
    print("Rates: the median round. Their ratios: the median of the per-round ratios (the rounds are in the JSON).")


if __name__ == "__main__":
    main()
