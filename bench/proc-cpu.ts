/**
 * Where a benchmark's CPU time went, read from Linux's /proc (bench only): the CPU time of
 * groups of processes (the worker processes, the PostgreSQL server's processes, the bench
 * itself) and of the whole machine over a window, so a throughput figure can say what it was
 * limited by. Elsewhere than Linux every figure is undefined.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';

const TICK_MS = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return 10;
  }
})();

/** utime + stime of `pid` in ms, and its parent; undefined once it is gone. */
function procStat(pid: number): { cpuMs: number; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: the fields that follow start after its ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
  } catch {
    return undefined;
  }
}

/** The machine's busy and total CPU time (all cores), in ms. */
function machine(): { busyMs: number; totalMs: number } | undefined {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number) as number[];
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    return { busyMs: busy * TICK_MS, totalMs: (busy + idle! + iowait!) * TICK_MS };
  } catch {
    return undefined;
  }
}

/** The processes of the PostgreSQL server whose data folder is `dataDir`: the postmaster and its children. */
export function postgresPids(dataDir: string): () => number[] {
  const pidFile = `${dataDir}/postmaster.pid`;
  return () => {
    if (!existsSync(pidFile)) return [];
    const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    const children = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => procStat(pid)?.ppid === postmaster);
    return [postmaster, ...children];
  };
}

export interface CpuReport {
  seconds: number;
  cores: number;
  /** CPU ms of each group over the window (undefined: not measurable here). */
  groups: Record<string, number | undefined>;
  /** CPU ms of the whole machine (every process, ours and others'). */
  machineMs: number | undefined;
}

/**
 * Samples the CPU time of each group's processes (its pids read again at every sample, so
 * processes that come and go — a server's connections — are counted) from `start()` to `stop()`.
 * A process first seen after the start was born in the window and counts from zero; one that
 * ends counts up to its last sample.
 */
export class CpuMeter {
  readonly #groups: Record<string, (() => number[]) | undefined>;
  readonly #first = new Map<number, number>();
  readonly #last = new Map<number, number>();
  readonly #groupOf = new Map<number, string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #started = 0;
  #machine: { busyMs: number; totalMs: number } | undefined;

  constructor(groups: Record<string, (() => number[]) | undefined>) {
    this.#groups = groups;
  }

  start(): void {
    this.#started = performance.now();
    this.#machine = machine();
    this.#sample(true);
    this.#timer = setInterval(() => this.#sample(false), 200);
  }

  #sample(first: boolean): void {
    for (const [group, pids] of Object.entries(this.#groups)) {
      for (const pid of pids?.() ?? []) {
        const cpuMs = procStat(pid)?.cpuMs;
        if (cpuMs === undefined) continue;
        if (!this.#first.has(pid)) this.#first.set(pid, first ? cpuMs : 0);
        this.#last.set(pid, cpuMs);
        this.#groupOf.set(pid, group);
      }
    }
  }

  stop(): CpuReport {
    this.#sample(false);
    clearInterval(this.#timer);
    const groups: Record<string, number | undefined> = {};
    for (const [group, pids] of Object.entries(this.#groups)) groups[group] = pids && existsSync('/proc/self/stat') ? 0 : undefined;
    for (const [pid, last] of this.#last) groups[this.#groupOf.get(pid)!]! += last - this.#first.get(pid)!;
    const end = machine();
    return {
      seconds: (performance.now() - this.#started) / 1000,
      cores: cpus().length,
      groups,
      machineMs: end && this.#machine ? end.busyMs - this.#machine.busyMs : undefined,
    };
  }
}
