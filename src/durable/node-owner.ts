/**
 * Lease owners of the Node stores (SQLite, Postgres): named `host:pid#n`, so an owner that is a
 * process of this host which no longer exists is known to be dead, and its runs are taken over
 * at once instead of after their lease lapses (a SIGKILLed process resumed on the same machine).
 * An owner of another host is only ever taken over once its lease has expired.
 */
import { hostname } from 'node:os';

let claims = 0;

export function nodeOwnerName(): string {
  return `${hostname()}:${process.pid}#${++claims}`;
}

export function isNodeOwnerGone(owner: string): boolean {
  const match = /^(.*):(\d+)#\d+$/.exec(owner);
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as { code?: string }).code === 'ESRCH';
  }
}
