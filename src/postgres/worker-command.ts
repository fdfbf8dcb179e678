/**
 * `junjo-xstate worker <module> --database-url … [--concurrency N] [--lease-ms N] [--schema s]`:
 * this process executes runs of the workflows `<module>` exports, taken from the RunQueue in
 * that database, until SIGTERM or SIGINT — the first drains (each running run stops at its next
 * step, is checkpointed and handed back for another worker), a second exits at once.
 */
import type { Workflow } from '../index.js';
import { RunQueue } from './run-queue.js';

export interface WorkerCommandOptions {
  databaseUrl: string | undefined;
  concurrency: string | undefined;
  leaseMs: string | undefined;
  schema: string | undefined;
}

const isWorkflow = (value: unknown): value is Workflow<any, any> =>
  typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string' && typeof (value as { resume?: unknown }).resume === 'function' && 'machine' in value;

/** Runs until stopped by a signal; resolves with what to print last. */
export async function workerCommand(module: Record<string, unknown>, path: string, options: WorkerCommandOptions, fail: (message: string) => Error): Promise<string> {
  const connectionString = options.databaseUrl ?? process.env.DATABASE_URL;
  if (!connectionString) throw fail('worker: give the database with --database-url postgres://… (or set DATABASE_URL)');
  const number = (flag: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw fail(`worker: --${flag} must be a whole number above 0, not '${text}'`);
    return n;
  };
  const concurrency = number('concurrency', options.concurrency, 4);
  const leaseMs = number('lease-ms', options.leaseMs, 30_000);
  const workflows = Object.values(module).filter(isWorkflow);
  if (!workflows.length) throw fail(`worker: '${path}' exports no Workflow: export the workflows this worker should run`);

  const queue = new RunQueue({ connectionString, workflows, leaseMs, ...(options.schema ? { schema: options.schema } : {}) });
  const worker = await queue.work({ concurrency });
  process.stdout.write(`junjo-xstate worker ${process.pid}: ready, running ${workflows.map((w) => w.name).join(', ')} (concurrency ${concurrency})\n`);
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = () => {
      if (++signals > 1) process.exit(130);
      process.stdout.write(`junjo-xstate worker ${process.pid}: stopping (running: ${worker.active.join(', ') || 'none'}); signal again to stop at once\n`);
      void worker.stop().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await queue.close();
  return `junjo-xstate worker ${process.pid}: stopped`;
}
