/**
 * `npx junjo-inspector` (or `npm run inspector`): starts the local inspector and prints where
 * to open it and where apps send their events.
 *
 *   junjo-inspector [--host 127.0.0.1] [--port 4480] [--allow-remote] [--allowed-host NAME]… [--checkpoints sqlite:runs.db]…
 */
import { parseArgs } from 'node:util';
import { DEFAULT_HOST, DEFAULT_PORT } from './protocol.js';
import { startInspectorServer } from './server.js';

const usage = `usage: junjo-inspector [--host ${DEFAULT_HOST}] [--port ${DEFAULT_PORT}] [--allow-remote] [--allowed-host NAME]

Serves the inspector UI and relays @statelyai/inspect events from apps to it.
Reading runs needs the token in the printed URL; apps on this machine send without one.
  --host           interface to listen on (default ${DEFAULT_HOST}: this machine only)
  --port           port to listen on (default ${DEFAULT_PORT})
  --allow-remote   required for a --host other machines can reach; apps then need the token too
  --allowed-host   with --allow-remote: a host name the server answers to (repeatable)
  --token          use this token instead of the one kept with the history (or JUNJO_INSPECTOR_TOKEN)
  --history        the SQLite file runs are kept in (default ~/.cache/junjo-inspector/history.sqlite)
  --history-mb     how many MiB of runs to keep (default 256); whole old runs go first
  --history-days   runs untouched for longer are deleted (default 7)
  --checkpoints    a durable run store to show, read only (repeatable): sqlite:<file> or postgres://user@host/db`;

let values: {
  host?: string; port?: string; help?: boolean; 'allow-remote'?: boolean; 'allowed-host'?: string[]; token?: string;
  history?: string; 'history-mb'?: string; 'history-days'?: string; checkpoints?: string[];
};
try {
  ({ values } = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      'allowed-host': { type: 'string', multiple: true },
      token: { type: 'string' },
      history: { type: 'string' },
      'history-mb': { type: 'string' },
      'history-days': { type: 'string' },
      checkpoints: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
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

/** A positive number option, or exit naming it. */
function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value > 0)) {
    console.error(`--${name} must be a positive number, got '${text}'\n\n${usage}`);
    process.exit(2);
  }
  return value;
}
const historyMb = positive('history-mb', values['history-mb']);
const historyDays = positive('history-days', values['history-days']);

try {
  const token = values.token ?? process.env.JUNJO_INSPECTOR_TOKEN;
  const server = await startInspectorServer({
    host: values.host ?? DEFAULT_HOST,
    port,
    allowRemote: values['allow-remote'] ?? false,
    allowedHosts: values['allowed-host'] ?? [],
    ...(token ? { token } : {}),
    ...(values.history ? { historyPath: values.history } : {}),
    ...(historyMb ? { historyBytes: Math.round(historyMb * 1024 * 1024) } : {}),
    ...(historyDays ? { historyMaxAgeMs: historyDays * 24 * 3600 * 1000 } : {}),
    checkpoints: values.checkpoints ?? [],
  });
  console.log(`junjo inspector: open ${server.url}`);
  console.log(`apps send events to ${server.appUrl}  (inspect() from junjo-xstate/inspector, or createWebSocketInspector)`);
  console.log(`runs are kept in ${server.historyPath}`);
  if (server.appUrl.includes('token=')) console.log('  (or set JUNJO_INSPECTOR_URL to that address in the app\'s environment)');
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
