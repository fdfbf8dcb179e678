/**
 * The page script of examples/react: the order workflow (examples/app-actors/workflow.ts) run
 * from React with @xstate/react. `useActorRef` owns one run per submitted order; `useSelector`
 * reads its progress, status and store state; the Approve / Reject buttons send the events
 * the run's Approval node waits for. The story card (story.tsx) shows a model node's tokens as
 * they stream.
 */
import { useActorRef, useSelector } from '@xstate/react';
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { graphToJSON } from '../../src/index.js';
import { PRICES, orderWorkflow, type OrderInput } from '../app-actors/workflow.js';
import { progressOf, type NodeProgress } from '../shared/progress.js';
import { StoryCard } from './story.js';

const graph = graphToJSON(orderWorkflow.graph());
const sameJSON = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function App() {
  const [item, setItem] = useState('desk');
  const [quantity, setQuantity] = useState(1);
  const [order, setOrder] = useState<OrderInput | null>(null);
  return (
    <main>
      <h1>Order review</h1>
      <p className="subtitle">
        A junjo-xstate workflow run from React: <code>useActorRef</code> owns the run, <code>useSelector</code> reads it.
        Orders over 100 wait for a reviewer.
      </p>
      <div className="grid">
        <section className="card wide">
          <form
            onSubmit={(event) => {
              event.preventDefault();
              setOrder({ orderId: `order-${Date.now().toString(36)}`, item, quantity });
            }}
          >
            <select id="item" value={item} onChange={(e) => setItem(e.target.value)}>
              {Object.entries(PRICES).map(([name, price]) => (
                <option key={name} value={name}>
                  {name} ({price} each)
                </option>
              ))}
            </select>
            <input id="quantity" type="number" min={1} value={quantity} onChange={(e) => setQuantity(Number(e.target.value))} />
            <button id="run" type="submit">
              Place order
            </button>
          </form>
        </section>
        {/* A new key for every order: a fresh component, so useActorRef starts a fresh run. */}
        {order && <OrderRun key={order.orderId} order={order} />}
        {/* Issue 16: a model node's tokens, as the run actor emits them. */}
        <StoryCard />
      </div>
    </main>
  );
}

function OrderRun({ order }: { order: OrderInput }) {
  // The observer's error handler marks a failing run as handled; the UI reads it off the snapshot.
  const run = useActorRef(orderWorkflow.machine, { input: order }, { error: () => {} });
  const nodes = useSelector(run, (s) => progressOf(graph, s), sameJSON);
  const status = useSelector(run, (s) => s.status);
  const error = useSelector(run, (s) => (s.status === 'error' ? String((s.error as Error).cause ?? s.error) : null));
  const store = useSelector(run, (s) => s.context.store);
  const state = useSelector(store, (s) => s.context);
  const [reviewer, setReviewer] = useState('dana');
  const waiting = nodes.some((n) => n.key === 'Approval' && n.status === 'waiting');

  return (
    <>
      <section className="card wide" data-run-status={status}>
        <h2>Run of {order.orderId}</h2>
        <p>
          run: <span className="run-status" id="run-status">{status === 'active' ? (waiting ? 'waiting for review' : 'running') : status}</span>
        </p>
        {waiting && (
          <div className="review">
            <span>
              Total <b>{state.total}</b> is over 100: a reviewer must decide.
            </span>
            <input id="reviewer" value={reviewer} onChange={(e) => setReviewer(e.target.value)} />
            <button id="approve" className="approve" onClick={() => run.send({ type: 'approve', by: reviewer })}>
              Approve
            </button>
            <button id="reject" className="reject" onClick={() => run.send({ type: 'reject', by: reviewer })}>
              Reject
            </button>
          </div>
        )}
        {status === 'done' && <p className="summary" id="summary">Order {state.outcome}{state.reviewer ? ` (reviewed by ${state.reviewer})` : ''}: total {state.total}</p>}
        {error && <p className="summary failed" id="summary">Failed: {error}</p>}
      </section>
      <section className="card">
        <h2>Nodes</h2>
        <Nodes nodes={nodes} />
      </section>
      <section className="card">
        <h2>Store state</h2>
        <pre className="state" id="state">{JSON.stringify(state, null, 2)}</pre>
      </section>
    </>
  );
}

function Nodes({ nodes }: { nodes: NodeProgress[] }) {
  return (
    <ul className="nodes" id="nodes">
      {nodes.map((n) => (
        <li key={n.key} className={n.parent ? 'item' : ''} data-node={n.key} data-status={n.status}>
          <span className="name">{n.name}</span>
          <span className="kind">{n.key === 'Approval' ? 'waitFor' : n.kind}</span>
          <span className={`pill ${n.status}`}>{n.status}</span>
        </li>
      ))}
    </ul>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
