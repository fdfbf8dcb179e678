/**
 * `junjo-xstate/postgres` (Node only, with `pg` installed): durable runs in PostgreSQL — the
 * checkpoint store. It imports the core by the package's name in the build, so an app gets one
 * CheckpointError class whichever entry threw it.
 */
export { PostgresCheckpointStore, SCHEMA_VERSION, type PostgresCheckpointStoreOptions } from './checkpoint-store.js';
