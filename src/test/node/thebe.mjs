// Behaves like Thebe (thebe-core) embedded in a page on another origin: a plain EventSource on
// <ferry>/build/<provider>/<spec> with no headers beyond what EventSource sends, reading only phase, message, url and
// token; then @jupyterlab/services with `Authorization: token` on REST and `?token=` on the kernel WebSocket, every
// request carrying the page's Origin. Like a browser, it refuses a response that lacks the CORS header for that origin.
// Usage: node thebe.mjs <ferry base url> <provider> <spec> <page origin> [code]
// Prints 'OUTPUT <json>' with the code's stdout, or 'REFUSED <why>' (exit 4) when CORS does not allow the origin.
import { EventSource } from 'eventsource';
import { ServerConnection } from '@jupyterlab/services';
import WebSocket from 'ws';
import { executeAndExit } from './execute.mjs';

const [ferry, provider, spec, origin, code = 'print(6*7)'] = process.argv.slice(2);
const timer = setTimeout(() => { console.error('timed out'); process.exit(3); }, 120000);

function refuse(why) {
  console.log('REFUSED ' + why);
  clearTimeout(timer);
  process.exit(4);
}

// fetch as a browser page on `origin` sees it: the Origin header is sent, and a cross-origin response without a
// matching Access-Control-Allow-Origin cannot be read. Preflights are made for non-simple requests.
async function pageFetch(input, init = {}, fromEventSource = false) {
  const request = new Request(input, init);
  const headers = new Headers(request.headers);
  headers.set('Origin', origin);
  // A browser's EventSource makes a simple request (no preflight), whatever headers this library adds.
  const simple = fromEventSource || ['GET', 'HEAD', 'POST'].includes(request.method) && !headers.has('Authorization')
      && (!headers.has('Content-Type') || /^(text\/plain|application\/x-www-form-urlencoded|multipart\/form-data)/.test(headers.get('Content-Type')));
  if (!simple) {
    const preflight = await fetch(request.url, { method: 'OPTIONS', headers: {
      Origin: origin, 'Access-Control-Request-Method': request.method,
      'Access-Control-Request-Headers': [...headers.keys()].filter(h => h !== 'origin').join(',') } });
    const allowed = preflight.headers.get('access-control-allow-origin');
    if (allowed !== origin && allowed !== '*') refuse('preflight for ' + request.method + ' ' + request.url);
  }
  const body = ['GET', 'HEAD'].includes(request.method) ? undefined : await request.arrayBuffer();
  const response = await fetch(request.url, { method: request.method, headers, body });
  const allowed = response.headers.get('access-control-allow-origin');
  if (allowed !== origin && allowed !== '*') refuse('response of ' + request.method + ' ' + request.url);
  return response;
}

class PageWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { origin });
  }
}

const ready = await new Promise((resolve) => {
  const es = new EventSource(`${ferry}/build/${provider}/${spec}`, {
    fetch: (url, init) => pageFetch(url, init, true),
  });
  es.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.phase === 'ready') { es.close(); resolve(msg); }
    if (msg.phase === 'failed') { es.close(); console.error('failed: ' + msg.message); process.exit(1); }
  };
  es.onerror = (e) => { if (es.readyState === 2) refuse('event stream: ' + (e.message || 'closed')); };
});

const serverSettings = ServerConnection.makeSettings({
  baseUrl: ready.url, wsUrl: 'ws' + ready.url.slice(4), token: ready.token, appendToken: true,
  WebSocket: PageWebSocket, fetch: pageFetch, Request: globalThis.Request, Headers: globalThis.Headers,
});
await executeAndExit(serverSettings, code, timer);
