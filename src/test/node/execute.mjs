// What kernel.mjs and thebe.mjs do once they have a server: start a python3 kernel with @jupyterlab/services (REST,
// then the kernel WebSocket), run the code, print 'OUTPUT <json string>' with what it wrote to stdout, shut the
// kernel down and exit 0; on any error (the execution's own included) print it and exit 1.
import { KernelManager } from '@jupyterlab/services';

export async function executeAndExit(serverSettings, code, timer) {
  try {
    const manager = new KernelManager({ serverSettings });
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
}
