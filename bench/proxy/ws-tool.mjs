// WebSocket and HTTP tools for bench/proxy/run.py. Every command prints one JSON line with its result.
//   echo <port>                          a WebSocket echo server (no compression, frames up to 64 MiB)
//   rtt <url> <concurrency> <seconds> <bytes>   round trips on open connections
//   big <url> <bytes> <count>            send <count> messages of <bytes>, check each echo is intact
//   idle <url> <n> <seconds>             hold <n> open connections; prints {"open": n} when all are open
//   storm <url> <n> <concurrency>        <n> WebSocket upgrades that are expected to fail (stopped session)
//   httpstorm <url> <n> <concurrency>    <n> HTTP GETs on new connections that are expected to fail
import http from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';

const [cmd, ...args] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024, handshakeTimeout: 30000 });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

if (cmd === 'echo') {
  // HTTP: an upload sink (reads the whole body, answers 204); anything else 404.
  const server = http.createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => { res.writeHead(req.url.endsWith('/upload') ? 204 : 404); res.end(); });
  });
  server.keepAliveTimeout = 60000;
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  server.listen(Number(args[0]), '127.0.0.1', () => out({ listening: Number(args[0]) }));
} else if (cmd === 'rtt') {
  const [url, c, seconds, bytes] = [args[0], Number(args[1]), Number(args[2]), Number(args[3])];
  const payload = Buffer.alloc(bytes, 97);
  const sockets = await Promise.all(Array.from({ length: c }, () => open(url)));
  const latencies = [];
  let count = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(sockets.map((ws) => new Promise((resolve) => {
    let t0;
    const send = () => { t0 = process.hrtime.bigint(); ws.send(payload); };
    ws.on('message', () => {
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      count++;
      if (Date.now() < end) send(); else resolve();
    });
    send();
  })));
  sockets.forEach((ws) => ws.terminate());
  latencies.sort((a, b) => a - b);
  out({ roundTrips: count, perSecond: count / seconds, p50ms: percentile(latencies, 0.5), p99ms: percentile(latencies, 0.99) });
  process.exit(0);
} else if (cmd === 'big') {
  const [url, bytes, n] = [args[0], Number(args[1]), Number(args[2])];
  const payload = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) payload[i] = (i * 31 + 7) & 0xff;
  const ws = await open(url);
  let intact = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const echoed = await new Promise((resolve, reject) => {
      ws.once('message', resolve);
      ws.once('close', (code) => reject(new Error('closed ' + code)));
      ws.send(payload);
    }).catch((e) => null);
    if (echoed && Buffer.compare(echoed, payload) === 0) intact++;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  ws.terminate();
  out({ messages: n, intact, perSecond: n / seconds, mbPerSecond: (2 * n * bytes / 1048576) / seconds });
  process.exit(0);
} else if (cmd === 'idle') {
  const [url, n, seconds] = [args[0], Number(args[1]), Number(args[2])];
  const sockets = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(100, n - i) }, () => open(url)));
    batch.forEach((r) => { if (r.status === 'fulfilled') sockets.push(r.value); });
  }
  out({ open: sockets.length });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const alive = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  sockets.forEach((ws) => ws.terminate());
  out({ held: alive });
  process.exit(0);
} else if (cmd === 'storm' || cmd === 'httpstorm') {
  const [url, n, c] = [args[0], Number(args[1]), Number(args[2])];
  const statuses = {};
  let done = 0;
  const agent = new http.Agent({ keepAlive: false });
  const one = () => new Promise((resolve) => {
    if (cmd === 'storm') {
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 10000 });
      ws.on('unexpected-response', (req, res) => { statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1; res.resume(); req.destroy(); resolve(); });
      ws.on('open', () => { statuses.open = (statuses.open || 0) + 1; ws.terminate(); resolve(); });
      ws.on('error', (e) => { if (!e.message.startsWith('Unexpected server response')) statuses.error = (statuses.error || 0) + 1; resolve(); });
    } else {
      http.get(url, { agent }, (res) => { statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1; res.resume(); res.on('end', resolve); })
        .on('error', () => { statuses.error = (statuses.error || 0) + 1; resolve(); });
    }
  });
  const workers = Array.from({ length: c }, async () => { while (done < n) { done++; await one(); } });
  const t0 = Date.now();
  await Promise.all(workers);
  out({ requests: n, seconds: (Date.now() - t0) / 1000, statuses });
  process.exit(0);
} else {
  console.error('unknown command ' + cmd);
  process.exit(2);
}
