// Runs code in a Jupyter kernel through Ferry with the client JupyterLab itself uses (@jupyterlab/services):
// REST to start the kernel, the kernel WebSocket to execute. Usage: node kernel.mjs <server url> <token> [code]
// Prints 'OUTPUT <json string>' with what the code wrote to stdout; exits non-zero on any error.
import { ServerConnection } from '@jupyterlab/services';
import WebSocket from 'ws';
import { executeAndExit } from './execute.mjs';

const [baseUrl, token, code = 'print(6*7)'] = process.argv.slice(2);
if (!baseUrl || !token) {
  console.error('usage: node kernel.mjs <server url> <token> [code]');
  process.exit(2);
}

const serverSettings = ServerConnection.makeSettings({
  baseUrl,
  wsUrl: 'ws' + baseUrl.slice(4),
  token,
  appendToken: true,
  WebSocket,
  fetch: globalThis.fetch,
  Request: globalThis.Request,
  Headers: globalThis.Headers,
});

const timer = setTimeout(() => { console.error('timed out'); process.exit(3); }, 60000);
await executeAndExit(serverSettings, code, timer);
