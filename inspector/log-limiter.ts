/**
 * Log lines about dropped input, at a bounded rate: the first few of each kind from each
 * sender are written as they come, the rest are counted and summed up in one line when the
 * sender disconnects or the interval passes. A sender that writes 10,000 bad messages costs
 * a handful of lines, and none goes unmentioned.
 */
export interface LogLimiterOptions {
  /** Lines written as they come per sender and kind before counting starts (default 3). */
  burst?: number;
  /** How often counted lines are summed up, in ms (default 10 s). */
  intervalMs?: number;
}

interface Tally {
  written: number;
  suppressed: number;
  source: string;
  kind: string;
}

export class LogLimiter {
  readonly #tallies = new Map<string, Tally>();
  readonly #burst: number;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    readonly log: (line: string) => void,
    options: LogLimiterOptions = {},
  ) {
    this.#burst = options.burst ?? 3;
    this.#timer = setInterval(() => this.flush(), options.intervalMs ?? 10_000);
    this.#timer.unref?.();
  }

  /** One dropped message of `kind` from `source`; `line` is written if the burst allows. */
  note(source: string, kind: string, line: string): void {
    const key = `${source}\u0000${kind}`;
    let tally = this.#tallies.get(key);
    if (!tally) this.#tallies.set(key, (tally = { written: 0, suppressed: 0, source, kind }));
    if (tally.written < this.#burst) {
      tally.written++;
      this.log(line);
    } else {
      tally.suppressed++;
    }
  }

  /** Writes one summary per sender and kind with counted lines; with `source`, only its own. */
  flush(source?: string): void {
    for (const [key, tally] of this.#tallies) {
      if (source !== undefined && tally.source !== source) continue;
      if (tally.suppressed > 0) {
        this.log(`dropped ${tally.suppressed} more messages from ${tally.source} (${tally.kind}) without a line each`);
      }
      // A sender that is gone, or a new interval, starts a fresh burst.
      this.#tallies.delete(key);
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.flush();
  }
}
