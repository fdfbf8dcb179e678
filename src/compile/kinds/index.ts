/**
 * The kind table: every executable kind and the module that compiles it, as immer looks up
 * its plugins. A new kind is one model file in src/graph (which adds its name to
 * ExecutableKinds), one module here, and one line below; this table must name every kind, or
 * it does not type-check. See docs/architecture.md.
 */
import type { ExecutableKinds } from '../../graph/executable.js';
import { agentKind } from './agent.js';
import type { KindCompiler } from './kind.js';
import { nodeKind } from './node.js';
import { runConcurrentKind } from './run-concurrent.js';
import { runMapKind } from './run-map.js';
import { subflowKind } from './subflow.js';
import { waitForEventKind } from './wait-for-event.js';

export const KINDS: { readonly [K in keyof ExecutableKinds]: KindCompiler<ExecutableKinds[K]> } = {
  node: nodeKind,
  waitForEvent: waitForEventKind,
  subflow: subflowKind,
  runConcurrent: runConcurrentKind,
  runMap: runMapKind,
  agent: agentKind,
};
