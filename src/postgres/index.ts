/**
 * `junjo-xstate/postgres` (Node only, with `pg` installed, and `pg-boss@10` for RunQueue):
 * durable runs in PostgreSQL — the checkpoint store, and runs spread over worker processes. It imports the core by the package's name in the build, so an app gets one
 * CheckpointError class whichever entry threw it.
 */
export { PostgresCheckpointStore, SCHEMA_VERSION, type PostgresCheckpointStoreOptions } from './checkpoint-store.js';
export { RunQueue, Worker, RunFailedError, type RunQueueOptions, type WorkOptions, type QueueWorkflow } from './run-queue.js';
