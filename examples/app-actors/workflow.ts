/**
 * The order workflow the app in this folder runs once per incoming order: price the order,
 * ship small orders straight away, and hold large ones at an approval step until a person
 * approves or rejects them (a `waitFor` node: the run pauses with nothing in flight).
 *
 *   Price ──(total > 100)──▶ Approval ──(approved)──▶ Ship
 *     │                        └────────────────────▶ Reject
 *     └──────────────────────────────────────────────▶ Ship
 */
import { Edge, Graph, Workflow, condition, defineStore, node, waitFor, type StateOf, type StoreOf } from '../../src/index.js';
import { modelLatency } from '../shared/model-latency.js';

export const PRICES: Record<string, number> = { book: 12, lamp: 45, chair: 85, desk: 240 };
/** Orders above this total wait for a person's approval. */
export const APPROVAL_LIMIT = 100;

export interface OrderInput {
  orderId: string;
  item: string;
  quantity: number;
}

export const OrderStore = defineStore({
  name: 'OrderStore',
  initial: {
    orderId: '',
    item: '',
    quantity: 0,
    total: null as number | null,
    decision: null as 'approved' | 'rejected' | null,
    reviewer: null as string | null,
    outcome: null as 'shipped' | 'rejected' | null,
  },
  actions: {
    setTotal: (draft, total: number) => {
      draft.total = total;
    },
    decide: (draft, decision: 'approved' | 'rejected', reviewer: string) => {
      draft.decision = decision;
      draft.reviewer = reviewer;
    },
    finish: (draft, outcome: 'shipped' | 'rejected') => {
      draft.outcome = outcome;
    },
  },
});
export type OrderStoreHandle = StoreOf<typeof OrderStore>;
export type OrderState = StateOf<typeof OrderStore>;

/** What a reviewer sends to a run waiting at Approval. */
export type ReviewEvent = { type: 'approve' | 'reject'; by: string };

const needsApproval = condition<OrderState>('NeedsApproval', (s) => (s.total ?? 0) > APPROVAL_LIMIT);
const approved = condition<OrderState>('Approved', (s) => s.decision === 'approved');

export function orderGraph(): Graph {
  const price = node<OrderStoreHandle>('Price', async (store, ctx) => {
    const { item, quantity } = store.getState();
    await modelLatency(10, ctx.signal); // looking the price up somewhere slow
    const unit = PRICES[item];
    if (unit === undefined) throw new Error(`unknown item '${item}'; we sell ${Object.keys(PRICES).join(', ')}`);
    if (!(quantity > 0)) throw new Error(`quantity must be at least 1, got ${quantity}`);
    await store.setTotal(unit * quantity);
  });
  const approval = waitFor<OrderStoreHandle, ReviewEvent>('Approval', ['approve', 'reject'], (store, event) =>
    store.decide(event.type === 'approve' ? 'approved' : 'rejected', event.by),
  );
  const ship = node<OrderStoreHandle>('Ship', (store) => store.finish('shipped'));
  const reject = node<OrderStoreHandle>('Reject', (store) => store.finish('rejected'));
  return new Graph({
    source: price,
    sinks: [ship, reject],
    edges: [
      new Edge({ tail: price, head: approval, condition: needsApproval }),
      new Edge({ tail: price, head: ship }),
      new Edge({ tail: approval, head: ship, condition: approved }),
      new Edge({ tail: approval, head: reject }),
    ],
  });
}

export const orderWorkflow = new Workflow({
  name: 'Order',
  graph: orderGraph,
  store: (input: OrderInput) => OrderStore.create(input),
});
