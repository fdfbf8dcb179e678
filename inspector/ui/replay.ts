/**
 * The run as it was at a commit, for time travel: a model of its own, fed the run's envelopes
 * up to that moment. Going forward feeds only the envelopes since the last step. Every
 * KEYFRAME_EVERY envelopes it passes, it keeps a copy of its model (Model.fork shares what did
 * not change, so a copy costs little), and a step back, or a jump past a keyframe, starts from
 * the nearest keyframe before the target instead of the run's start: any step feeds at most
 * that many envelopes once the keyframes are there. It feeds in slices of a few milliseconds,
 * so even the first jump through a 70,000-event run never blocks the page for long: the
 * caller asks again until it is there.
 */
import { Model, type RunRecord } from './model.js';

/** How long one slice of replaying may take before it lets the page breathe. */
const SLICE_MS = 12;
/** Envelopes between keyframes: a step back feeds at most this many, in slices. */
const KEYFRAME_EVERY = 2000;

export class Replay {
  #model = new Model(false);
  #count = 0;
  #run: string | undefined;
  /** Keyframes of #run: keyframes[i] is the model after (i + 1) · KEYFRAME_EVERY envelopes. */
  #keyframes: Model[] = [];

  /** The replayed model; whole only once `advance` returned true for the current target. */
  get model(): Model {
    return this.#model;
  }

  /** Feeds `run`'s envelopes until `at` of them are in, for one slice; true once there. */
  advance(run: RunRecord, at: number): boolean {
    if (this.#run !== run.key) {
      this.#run = run.key;
      this.#keyframes = [];
      this.#restart(0);
    }
    const target = Math.min(at, run.envelopes.length);
    // The keyframe at or before the target, if it is nearer than where the model is.
    const nearest = Math.min(Math.floor(target / KEYFRAME_EVERY), this.#keyframes.length);
    if (target < this.#count || nearest * KEYFRAME_EVERY > this.#count) this.#restart(nearest);
    const until = performance.now() + SLICE_MS;
    while (this.#count < target) {
      this.#model.ingest(run.envelopes[this.#count++]!);
      if (this.#count % KEYFRAME_EVERY === 0 && this.#count / KEYFRAME_EVERY > this.#keyframes.length) this.#keyframes.push(this.#model.fork());
      if ((this.#count & 63) === 0 && performance.now() > until) return this.#count >= target;
    }
    return true;
  }

  /** Starts again from keyframe `n` (0: the run's start). */
  #restart(n: number): void {
    this.#model = n === 0 ? new Model(false) : this.#keyframes[n - 1]!.fork();
    this.#count = n * KEYFRAME_EVERY;
  }
}
