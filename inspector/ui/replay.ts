/**
 * The run as it was at a commit, for time travel: a model of its own, fed the run's envelopes
 * up to that moment. Stepping forward feeds only the envelopes since the last step; stepping
 * back starts over. Either way it works in slices of a few milliseconds, so a step through a
 * 70,000-event run never blocks the page for long: the caller asks again until it is there.
 */
import { Model, type RunRecord } from './model.js';

/** How long one slice of replaying may take before it lets the page breathe. */
const SLICE_MS = 25;

export class Replay {
  #model = new Model();
  #count = 0;
  #run: string | undefined;

  /** The replayed model; whole only once `advance` returned true for the current target. */
  get model(): Model {
    return this.#model;
  }

  /** Feeds `run`'s envelopes until `at` of them are in, for one slice; true once there. */
  advance(run: RunRecord, at: number): boolean {
    if (this.#run !== run.key || at < this.#count) {
      this.#model = new Model();
      this.#count = 0;
      this.#run = run.key;
    }
    const target = Math.min(at, run.envelopes.length);
    const until = performance.now() + SLICE_MS;
    while (this.#count < target) {
      this.#model.ingest(run.envelopes[this.#count++]!);
      if ((this.#count & 127) === 0 && performance.now() > until) return this.#count >= target;
    }
    return true;
  }
}
