import { createActor, fromPromise, setup, type AnyActorRef, type ActorLogic } from 'xstate';
// raw: a parent custom logic spawning N fromPromise children
const noop = fromPromise(async () => {});
function parentLogic(n: number): ActorLogic<any, any, any> {
  let left = 0;
  return {
    getInitialSnapshot: () => ({ status: 'active', output: undefined, error: undefined }),
    start(s, scope) { left = n; for (let i = 0; i < n; i++) createActor(noop, { parent: scope.self, id: `x[${i}]` }).start(); },
    transition(s, e) { if (e.type.startsWith('xstate.done.actor.')) { if (--left === 0) return { ...s, status: 'done' }; } return s; },
    getPersistedSnapshot: (s) => s,
  };
}
const m = (n: number) => setup({ actors: { p: parentLogic(n) } }).createMachine({ initial: 'a', states: { a: { invoke: { src: 'p', onDone: 'b' } }, b: { type: 'final' } } });
const run = (mm: any) => new Promise<void>((res) => { const a = createActor(mm); a.subscribe({ complete: () => res() }); a.start(); });
for (const n of [1000, 10000]) { const mm = m(n); for (let r = 0; r < 6; r++) { const t = performance.now(); await run(mm); console.log('raw', n, (performance.now() - t).toFixed(1)); } }
let t = performance.now(); for (let i = 0; i < 100000; i++) new AbortController(); console.log('100k AbortController', (performance.now() - t).toFixed(1));
