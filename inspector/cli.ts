/**
 * `npx junjo-inspector` (or `npm run inspector`): starts the local inspector and prints where
 * to open it and where apps send their events.
 *
 *   junjo-inspector [--host 127.0.0.1] [--port 4480]
 */
import { parseArgs } from 'node:util';
import { DEFAULT_HOST, DEFAULT_PORT } from './protocol.js';
import { startInspectorServer } from './server.js';

const usage = `usage: junjo-inspector [--host ${DEFAULT_HOST}] [--port ${DEFAULT_PORT}]

Serves the inspector UI and relays @statelyai/inspect events from apps to it.
  --host   interface to listen on (default ${DEFAULT_HOST}: this machine only)
  --port   port to listen on (default ${DEFAULT_PORT})`;

let values: { host?: string; port?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: { host: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  }));
} catch (err) {
  console.error(`${(err as Error).message}\n\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a whole number from 0 to 65535, got '${values.port}'\n\n${usage}`);
  process.exit(2);
}

try {
  const server = await startInspectorServer({ host: values.host ?? DEFAULT_HOST, port });
  console.log(`junjo inspector: open ${server.url}`);
  console.log(`apps send events to ${server.appUrl}  (inspect() from junjo-xstate/inspector, or createWebSocketInspector)`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    console.error(`port ${port} is in use: is an inspector already running there? Pick another with --port`);
  } else {
    console.error(`junjo inspector could not start: ${(err as Error).message}`);
  }
  process.exit(1);
}
