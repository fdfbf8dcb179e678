/**
 * Leases of durable runs: a run is owned by at most one process at a time. Claiming a run takes
 * a lease with an expiry and a fencing number that grows with every claim; each checkpoint
 * write names the lease and is refused (LeaseLostError) unless it is still the run's current
 * one, so a process that stalled past its expiry while another took the run over writes nothing.
 * The owner renews its lease while the run is active and releases it when the run ends.
 *
 * A store offers leases by implementing `LeasingStore` next to `CheckpointStore` (the memory,
 * SQLite and Postgres stores do); with any other store a run is checkpointed without a lease.
 * Browser-safe: the Node stores add what needs `node:os` (which owner is dead on this host).
 */
import { LeaseHeldError, LeaseLostError } from '../errors.js';
import type { CheckpointStore } from './checkpoint-store.js';

type MaybePromise<T> = T | Promise<T>;

export interface Lease {
  runId: string;
  /** Who holds it: unique per claim, e.g. `host:pid#3`. */
  owner: string;
  /** Grows with every claim of the run: a write names it, and only the current one is accepted. */
  fence: number;
  /** When it lapses unless renewed, in ms since the epoch, by the store's clock. */
  expiresAt: number;
}

export interface ClaimRequest {
  runId: string;
  owner: string;
  leaseMs: number;
  /** Take the lease even though it is held — by this owner, known to be dead. */
  takeOverFrom?: string;
}

/** The lease half of a durable store. */
export interface LeasingStore {
  /** Takes the run's lease, or throws LeaseHeldError naming the live owner. */
  claim(request: ClaimRequest): MaybePromise<Lease>;
  /** Extends a lease that is still current, or throws LeaseLostError naming the new owner. */
  renew(lease: Lease, leaseMs: number): MaybePromise<Lease>;
  /** Lets the run go (if the lease is still current), so another process can claim it at once. */
  release(lease: Lease): MaybePromise<void>;
  /** A fresh owner name for a claim from this process. */
  ownerName(): string;
  /** True when `owner` is certainly gone (a process of this host that no longer exists). */
  isOwnerGone?(owner: string): boolean;
}

export type LeasingCheckpointStore = CheckpointStore & LeasingStore;

/** How a run's lease is kept: `ms` until it lapses unless renewed (renewed every third of it). */
export interface LeaseOptions {
  /** Default 30 000. A process that stalls longer than this loses its runs to other processes. */
  ms?: number;
  /** The owner's name, shown to others refused the run (default: the store's, e.g. `host:pid#n`). */
  owner?: string;
}

export const DEFAULT_LEASE_MS = 30_000;

export function isLeasing(store: CheckpointStore): store is LeasingCheckpointStore {
  const s = store as Partial<LeasingStore>;
  return typeof s.claim === 'function' && typeof s.renew === 'function' && typeof s.release === 'function' && typeof s.ownerName === 'function';
}

interface Held {
  owner: string;
  fence: number;
  expiresAt: number;
}

/**
 * Leases kept in a map: the rules every store follows, here for the memory store (the SQL
 * stores state the same rules in SQL). `now` is the store's clock.
 */
export class LeaseTable {
  readonly #leases = new Map<string, Held>();
  #owners = 0;
  // One counter for every run: a fence still grows with every claim after a lease is forgotten.
  #fences = 0;
  constructor(readonly prefix: string) {}

  ownerName(): string {
    return `${this.prefix}#${++this.#owners}`;
  }

  claim({ runId, owner, leaseMs, takeOverFrom }: ClaimRequest, now = Date.now()): Lease {
    const held = this.#leases.get(runId);
    if (held && held.expiresAt > now && held.owner !== takeOverFrom) throw new LeaseHeldError(runId, held.owner, held.expiresAt - now);
    const lease = { runId, owner, fence: ++this.#fences, expiresAt: now + leaseMs };
    this.#leases.set(runId, { owner, fence: lease.fence, expiresAt: lease.expiresAt });
    return lease;
  }

  /** Throws LeaseLostError unless `lease` is the run's current one. */
  check(lease: Lease): void {
    const held = this.#leases.get(lease.runId);
    if (!held || held.owner !== lease.owner || held.fence !== lease.fence) throw new LeaseLostError(lease.runId, lease.owner, lease.fence, held?.owner ?? null);
  }

  renew(lease: Lease, leaseMs: number, now = Date.now()): Lease {
    this.check(lease);
    const renewed = { ...lease, expiresAt: now + leaseMs };
    this.#leases.set(lease.runId, { owner: lease.owner, fence: lease.fence, expiresAt: renewed.expiresAt });
    return renewed;
  }

  release(lease: Lease): void {
    const held = this.#leases.get(lease.runId);
    // Kept, lapsed, so that a late write of an older owner is told who had the run last.
    if (held && held.owner === lease.owner && held.fence === lease.fence) this.#leases.set(lease.runId, { ...held, expiresAt: 0 });
  }

  /** The run's record was deleted: forget its lease unless someone holds it. */
  forget(runId: string, now = Date.now()): void {
    const held = this.#leases.get(runId);
    if (held && held.expiresAt <= now) this.#leases.delete(runId);
  }
}
