/**
 * What a run starts with besides its input: its options (id, validation, hooks, redaction).
 * They travel with the actor, inside its input: `execute()` and `createRun()` wrap the input
 * in a RunStart, and the machine's context factory unwraps it. A machine created or invoked
 * directly gets its plain input and runs with the defaults.
 */
import type { Redact, WorkflowHooks } from '../hooks.js';

/** Options of one run that are not its input. */
export interface RunOptions {
  runId?: string;
  /** Validate the graph before any node runs (default true). */
  validate?: boolean;
  /** Hooks for this run only, in addition to the workflow's. */
  hooks?: WorkflowHooks | readonly WorkflowHooks[];
  /** Hides secrets from the states hooks see; replaces the workflow's `redact`. */
  redact?: Redact;
}

const NO_OPTIONS: RunOptions = Object.freeze({});

/** A run's input together with its options, as the actor's input. */
export class RunStart {
  constructor(
    readonly input: unknown,
    readonly options: RunOptions,
  ) {}

  /** Inspectors serialize an actor's input: they see the run's input, not its hooks. */
  toJSON(): unknown {
    return this.input;
  }

  /** The input and options an actor was created with, plain input or a RunStart. */
  static unwrap(actorInput: unknown): RunStart {
    return actorInput instanceof RunStart ? actorInput : new RunStart(actorInput, NO_OPTIONS);
  }
}

let runCounter = 0;
export function newRunId(): string {
  const uuid = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto?.randomUUID;
  // Node builds the UUID as a chain of ~20 concatenated pieces (~0.5 KiB held for as long as
  // the run lives); lower-casing the already lower-case UUID copies it into one flat string.
  return uuid ? uuid.call(globalThis.crypto).toLowerCase() : `run-${Date.now().toString(36)}-${(runCounter++).toString(36)}`;
}
