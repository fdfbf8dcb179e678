/**
 * An order-processing app machine: the kind of XState machine an application already has.
 * Every incoming order spawns one run of the order workflow as a child actor (id = the order's
 * id); reviewers' approve/reject events are forwarded to the run waiting for them; each run's
 * result (or WorkflowExecutionError) comes back to the app as XState's done (or error) event
 * for that child.
 */
import { assertEvent, assign, sendTo, setup, spawnChild, type AnyActorRef, type DoneActorEvent, type ErrorActorEvent, type OutputFrom, type SnapshotFrom } from 'xstate';
import { WorkflowExecutionError } from '../../src/index.js';
import { orderWorkflow, type OrderInput, type OrderState } from './workflow.js';

export interface OrderRecord {
  orderId: string;
  item: string;
  quantity: number;
  status: 'processing' | 'shipped' | 'rejected' | 'failed';
  total: number | null;
  reviewer: string | null;
  error: string | null;
}

export type AppEvent =
  | { type: 'order.received'; order: OrderInput }
  | { type: 'order.approve'; orderId: string; by: string }
  | { type: 'order.reject'; orderId: string; by: string }
  // What XState sends the app when a spawned run ends; the child's id is the order's id.
  | DoneActorEvent<OutputFrom<typeof orderWorkflow.machine>>
  | ErrorActorEvent<unknown>;

/** The run of `orderId`, while it is running. */
export function runOf(snapshot: SnapshotFrom<typeof orderApp>, orderId: string): AnyActorRef | undefined {
  return (snapshot.children as Record<string, AnyActorRef | undefined>)[orderId];
}

/** Whether the run of `orderId` is paused at its Approval step. */
export function isAwaitingApproval(snapshot: SnapshotFrom<typeof orderApp>, orderId: string): boolean {
  return runOf(snapshot, orderId)?.getSnapshot().matches({ Approval: 'waiting' }) ?? false;
}

const update = (orders: Record<string, OrderRecord>, orderId: string, patch: Partial<OrderRecord>) =>
  orders[orderId] ? { ...orders, [orderId]: { ...orders[orderId], ...patch } } : orders;

export const orderApp = setup({
  types: {
    context: {} as { orders: Record<string, OrderRecord> },
    events: {} as AppEvent,
  },
  actors: { order: orderWorkflow.machine },
  guards: {
    isNewOrder: ({ context, event }) => event.type === 'order.received' && !(event.order.orderId in context.orders),
    // Only a running order has a run to send to. A run that is not (yet) at its Approval step
    // ignores the event, as every XState actor ignores events it has no transition for.
    isRunning: ({ context, event }) =>
      (event.type === 'order.approve' || event.type === 'order.reject') &&
      context.orders[event.orderId]?.status === 'processing',
  },
}).createMachine({
  id: 'orderApp',
  context: { orders: {} },
  on: {
    'order.received': {
      guard: 'isNewOrder',
      actions: [
        spawnChild('order', {
          id: ({ event }) => event.order.orderId,
          input: ({ event }) => {
            // XState types a spawn's input mapper with every event of the machine; narrow it.
            assertEvent(event, 'order.received');
            return event.order;
          },
        }),
        assign({
          orders: ({ context, event }) => ({
            ...context.orders,
            [event.order.orderId]: { ...event.order, status: 'processing', total: null, reviewer: null, error: null },
          }),
        }),
      ],
    },
    // The run is waiting for exactly these events; sendTo delivers them to it by id.
    'order.approve': {
      guard: 'isRunning',
      actions: sendTo(({ event }) => event.orderId, ({ event }) => ({ type: 'approve', by: event.by })),
    },
    'order.reject': {
      guard: 'isRunning',
      actions: sendTo(({ event }) => event.orderId, ({ event }) => ({ type: 'reject', by: event.by })),
    },
    'xstate.done.actor.*': {
      actions: assign({
        orders: ({ context, event }) => {
          const state: OrderState = event.output.state;
          return update(context.orders, event.actorId, {
            status: state.outcome ?? 'failed',
            total: state.total,
            reviewer: state.reviewer,
          });
        },
      }),
    },
    'xstate.error.actor.*': {
      actions: assign({
        orders: ({ context, event }) =>
          update(context.orders, event.actorId, {
            status: 'failed',
            error: event.error instanceof WorkflowExecutionError ? String(event.error.cause) : String(event.error),
          }),
      }),
    },
  },
});
