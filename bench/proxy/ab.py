#!/usr/bin/env python3
"""Interleaved A/B of Ferry's proxy configurations against nginx, for HTTP (small GETs, 1 MiB downloads, 10 MiB uploads).

On a shared 2-core machine two runs of run.py minutes apart differ by more than most changes, so this starts every
contender at once and takes turns: each round runs every case against each contender, one after the other, and reads
each proxy's CPU seconds from /proc during the case (CPU per request moves less with the neighbours' load than
throughput does). Prints medians over the rounds.

    bench/proxy/ab.py                                  # the jar (target/ferry.jar) and nginx
    bench/proxy/ab.py --variant new=target/ferry.jar --variant old=/path/to/old.jar   # two jars (their defaults)
    bench/proxy/ab.py --variant tuned=target/ferry.jar:-Dio.netty.allocator.type=adaptive
    bench/proxy/ab.py --variant jdk17=target/ferry.jar:java=/usr/lib/jvm/java-17-openjdk-amd64/bin/java \
                      --variant parallel=target/ferry.jar:-XX:+UseParallelGC
    # every variant gets run.ferry_flags (on JDK 24+ Unsafe allowed); without Unsafe: -Dio.netty.noUnsafe=true
    bench/proxy/ab.py --ws --chp                       # also WebSocket round trips (100 B, c=10), and CHP as a contender
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the same helpers and flags as the full benchmark)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=12, help="seconds of warm-up per contender")
    ap.add_argument("--ws", action="store_true", help="add WebSocket round trips (100 B, c=10)")
    ap.add_argument("--chp", action="store_true", help="add configurable-http-proxy as a contender")
    ap.add_argument("--only-ws", action="store_true", help="WebSocket round trips only")
    ap.add_argument("--variant", action="append", default=[],
                    help="name=jar[:--spring.arg|-Djvm.flag|-J--jvm-option|java=/path ...], colon-separated; default: target/ferry.jar")
    opts = ap.parse_args()
    jar = os.path.join(run.ROOT, "target", "ferry.jar")
    variants = opts.variant or [f"ferry={jar}"]
    java = run.newest_java()

    work = tempfile.mkdtemp(prefix="ferry-ab-")
    os.chmod(work, 0o755)
    procs = []

    def start(cmd, **kw):
        return run.start_process(work, procs, cmd, **kw)

    try:
        run.static_files(work)
        up = run.free_port()

        def conf(port, body):
            return run.nginx_config(work, port, "client_max_body_size 64m; " + body)
        with open(os.path.join(work, "up.conf"), "w") as f:
            f.write(conf(up, f"root {work}/www;"))
        start(["nginx", "-c", os.path.join(work, "up.conf"), "-p", work])
        sink = run.free_port()  # the node tool's upload sink: reads the whole body, then answers 204
        start(["node", run.NODE_TOOL, "echo", str(sink)])
        run.wait_port(up)
        run.wait_port(sink)

        contenders = {}
        nport = run.free_port()
        with open(os.path.join(work, "proxy.conf"), "w") as f:
            f.write(conf(nport, """proxy_http_version 1.1; proxy_buffering on; proxy_request_buffering off;
    proxy_set_header Host $host; location /user/bench-http/ { proxy_set_header Connection ""; proxy_pass http://up; }
    location /user/bench-ws/ { proxy_set_header Connection ""; proxy_pass http://sink; }
    location /user/bench-ws/echo { proxy_pass http://127.0.0.1:%d; proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade"; proxy_read_timeout 600s; }
  }
  upstream up { server 127.0.0.1:%d; keepalive 256; }
  upstream sink { server 127.0.0.1:%d; keepalive 256;""" % (sink, up, sink)))
        contenders["nginx"] = (start(["nginx", "-c", os.path.join(work, "proxy.conf"), "-p", work]).pid, nport)
        for spec in variants:
            name, rest = spec.split("=", 1)
            parts = re.split(r":(?=--|-[DXJ]|java=)", rest)  # -XX:+Flag and -XX:-Flag keep their colon
            port = run.free_port()
            # -D…/-X… and -J<launcher option> go to the JVM, --… to Spring; java=<path> picks the JDK
            jvm = [p[2:] if p.startswith("-J") else p for p in parts[1:] if p[:2] in ("-D", "-X", "-J")]
            args = [p for p in parts[1:] if p.startswith("--")]
            binary = next((p[5:] for p in parts[1:] if p.startswith("java=")), java)
            gc = re.compile(r"-XX:\+Use(Serial|Parallel|G1|Z|Shenandoah|Epsilon)GC")
            gc_chosen = any(gc.fullmatch(f) for f in jvm)
            base = [f for f in run.ferry_flags(binary) if not (gc_chosen and gc.fullmatch(f))]
            p = start([binary, *base, *jvm, "-jar", parts[0], f"--server.port={port}",
                       "--server.address=127.0.0.1", f"--ferry.local.work-dir={work}/{name}", "--logging.level.root=WARN",
                       f"--ferry.proxy.routes.bench-http=http://127.0.0.1:{up}",
                       f"--ferry.proxy.routes.bench-ws=http://127.0.0.1:{sink}", *args])
            contenders[name] = (p.pid, port)
        if opts.chp:
            chp, cport = run.start_chp(start, {"bench-http": up, "bench-ws": sink})
            contenders["chp"] = (chp.pid, cport)
        for _, port in contenders.values():
            run.wait_port(port)

        upload = os.path.join(work, "upload.lua")
        with open(upload, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = string.rep("u", 10 * 1024 * 1024)\n'
                    'wrk.headers["Content-Type"] = "application/octet-stream"\n')
        cases = [("GET 512 B c=10", "/user/bench-http/small.txt", 10, None, "req"),
                 ("GET 512 B c=50", "/user/bench-http/small.txt", 50, None, "req"),
                 ("download 1 MiB c=4", "/user/bench-http/big.bin", 4, None, "MiB"),
                 ("upload 10 MiB c=1", "/user/bench-ws/upload", 1, upload, "MiB")]
        if opts.only_ws:
            cases = []
        if opts.ws or opts.only_ws:
            cases.append(("WS rtt 100 B c=10", "/user/bench-ws/echo", 10, None, "rt"))

        def load(port, path, c, seconds, script):
            if path.endswith("/echo"):
                out = run.node("rtt", f"ws://127.0.0.1:{port}{path}", c, seconds, 100)
                return {"rps": out["perSecond"], "non_2xx": 0}
            return run.wrk(f"http://127.0.0.1:{port}{path}", c, seconds, script)
        for name, (pid, port) in contenders.items():
            for _, path, c, script, _ in cases:
                load(port, path, c, max(1, opts.warmup // len(cases)), script)
        results = {}
        for r in range(opts.rounds):
            for case, path, c, script, unit in cases:
                for name, (pid, port) in contenders.items():
                    before = run.usage(pid)["cpu"]
                    out = load(port, path, c, opts.seconds, script)
                    cpu = run.usage(pid)["cpu"] - before
                    if unit in ("req", "rt"):
                        rate, per = out["rps"], cpu * 1e6 / max(1, out["rps"] * opts.seconds)
                    else:
                        mib = out["rps"] * opts.seconds * (10 if script else 1)
                        rate, per = mib / opts.seconds, cpu * 1e6 / max(1, mib)
                    results.setdefault((case, name), []).append((rate, per, out["non_2xx"]))
            print(f"round {r + 1} of {opts.rounds} done", file=sys.stderr)

        print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} | cores: {os.cpu_count()} | rounds: {opts.rounds} x {opts.seconds} s"
              f" | load: {os.getloadavg()[0]:.1f}")
        print(f"{'case':24} {'contender':12} {'rate':>10} {'x nginx':>8} {'CPU us/unit':>12} {'non-2xx':>8}")
        for case, _, _, _, unit in cases:
            base = statistics.median(x[0] for x in results[(case, "nginx")])
            for name in contenders:
                rows = results[(case, name)]
                rate = statistics.median(x[0] for x in rows)
                per = statistics.median(x[1] for x in rows)
                print(f"{case:24} {name:12} {rate:10.0f} {rate / base:8.2f} {per:12.1f} {sum(x[2] for x in rows):8d}")
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, 15)
            except OSError:
                pass
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)


if __name__ == "__main__":
    main()
