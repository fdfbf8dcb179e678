/**
 * Child processes for the multi-process tests: start one (`node --import tsx <file> …`), read
 * its stdout line by line, wait for a line, send it signals and stdin, and wait for its exit.
 * A guard kills a child that outlives its test, so no test hangs on a stuck process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface Child {
  proc: ChildProcessWithoutNullStreams;
  lines: string[];
  /** Resolves with the first line (already printed or still to come) that matches. */
  line(match: RegExp): Promise<string>;
  /** Resolves once the process has exited: its code, signal, stdout lines and stderr. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: string[]; stderr: string }>;
  send(text: string): void;
}

export function startChild(file: string, args: string[], env: Record<string, string> = {}, guardMs = 120_000): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', file, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { match: RegExp; resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  let buffer = '';
  let stderr = '';
  const guard = setTimeout(() => proc.kill('SIGKILL'), guardMs);
  // A test that fails or crashes leaves no child behind.
  const reap = () => proc.kill('SIGKILL');
  process.once('exit', reap);
  proc.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: string[]; stderr: string }>((resolve) => {
    proc.on('close', (code, signal) => {
      clearTimeout(guard);
      process.off('exit', reap);
      if (buffer) lines.push(buffer);
      for (const w of waiters.splice(0)) w.reject(new Error(`${file} ${args.join(' ')} exited (${code ?? signal}) before printing ${w.match}:\n${lines.join('\n')}\n${stderr}`));
      resolve({ code, signal, lines, stderr });
    });
  });
  return {
    proc,
    lines,
    exited,
    line: (match) => {
      const seen = lines.find((l) => match.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.reject(new Error(`${file} already exited before printing ${match}:\n${stderr}`));
      return new Promise((resolve, reject) => waiters.push({ match, resolve, reject }));
    },
    send: (text) => void proc.stdin.write(text),
  };
}

/**
 * Runs `file` to its end and collects what it printed; `interruptWhen(out)` may return true
 * (once) to send it SIGINT, as a person pressing Ctrl-C would.
 */
export async function runToEnd(
  file: string,
  args: string[],
  env: Record<string, string> = {},
  interruptWhen?: (out: string) => boolean,
): Promise<{ out: string; err: string; code: number | null; signal: NodeJS.Signals | null }> {
  const child = startChild(file, args, env, 60_000);
  let out = '';
  let interrupted = false;
  child.proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (!interrupted && interruptWhen?.(out)) {
      interrupted = true;
      child.proc.kill('SIGINT');
    }
  });
  const { code, signal, stderr } = await child.exited;
  return { out, err: stderr, code, signal };
}
