/**
 * Runs the order-processing app: five orders arrive at once, each becomes a workflow run;
 * the two large ones wait for a reviewer, who approves one and rejects the other; one order
 * fails (we do not sell sofas). Prints every order's outcome.
 *
 *   npm run example:app-actors
 */
import { createActor, waitFor as until } from 'xstate';
import { isAwaitingApproval, orderApp, runOf } from './app.js';
import type { OrderInput } from './workflow.js';

const incoming: OrderInput[] = [
  { orderId: 'A-1', item: 'book', quantity: 3 },
  { orderId: 'A-2', item: 'desk', quantity: 1 },
  { orderId: 'A-3', item: 'lamp', quantity: 2 },
  { orderId: 'A-4', item: 'chair', quantity: 4 },
  { orderId: 'A-5', item: 'sofa', quantity: 1 },
];

const app = createActor(orderApp).start();
for (const order of incoming) app.send({ type: 'order.received', order });

// Wait until every run has finished or stopped at its Approval step. (A failed run rejects
// this wait; the app records its error, so here it only counts as settled.)
await Promise.all(
  incoming.map(async ({ orderId }) => {
    const run = runOf(app.getSnapshot(), orderId);
    if (run) await until(run, (s) => s.status !== 'active' || s.matches({ Approval: 'waiting' })).catch(() => {});
  }),
);
const waiting = incoming.map((o) => o.orderId).filter((id) => isAwaitingApproval(app.getSnapshot(), id));
console.log(`waiting for approval: ${waiting.join(', ')}`);

app.send({ type: 'order.approve', orderId: 'A-2', by: 'dana' });
app.send({ type: 'order.reject', orderId: 'A-4', by: 'lee' });

const { context } = await until(app, (s) => Object.values(s.context.orders).every((o) => o.status !== 'processing'));
app.stop();

for (const o of Object.values(context.orders)) {
  const detail = o.error ?? (o.reviewer ? `reviewed by ${o.reviewer}` : 'no review needed');
  console.log(`${o.orderId}  ${`${o.quantity} × ${o.item}`.padEnd(10)} ${String(o.total ?? '-').padStart(4)}  ${o.status.padEnd(8)}  ${detail}`);
}
