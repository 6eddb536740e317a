// Runs code in a Jupyter kernel through Ferry with the client JupyterLab itself uses (@jupyterlab/services):
// REST to start the kernel, the kernel WebSocket to execute. Usage: node kernel.mjs <server url> <token> [code]
// Prints 'OUTPUT <json string>' with what the code wrote to stdout; exits non-zero on any error.
import { KernelManager, ServerConnection } from '@jupyterlab/services';
import WebSocket from 'ws';

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
const manager = new KernelManager({ serverSettings });
try {
  await manager.ready;
  const kernel = await manager.startNew({ name: 'python3' });
  let out = '';
  const future = kernel.requestExecute({ code });
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += msg.content.text;
    if (msg.header.msg_type === 'error') { console.error(msg.content.ename + ': ' + msg.content.evalue); }
  };
  const reply = await future.done;
  if (reply.content.status !== 'ok') throw new Error('execute status ' + reply.content.status);
  process.stdout.write('OUTPUT ' + JSON.stringify(out) + '\n');
  await kernel.shutdown();
  manager.dispose();
  clearTimeout(timer);
  process.exit(0);
} catch (e) {
  console.error(String(e && e.stack || e));
  process.exit(1);
}
