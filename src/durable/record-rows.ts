/**
 * What the SQL checkpoint stores (SQLite, Postgres) share about a record's row: the checksum
 * that tells a record changed behind the store's back, and the summary a row reads back as.
 * Node only (node:crypto), like the stores.
 */
import { createHash } from 'node:crypto';
import type { CheckpointSummary, RunStatus } from './checkpoint-store.js';

/** A checkpoint row's summary columns; Postgres returns its bigint columns as strings. */
export interface SummaryRow {
  run_id: string;
  workflow: string;
  status: RunStatus;
  created_at: number | string;
  updated_at: number | string;
  error: string | null;
  /** Forks: the run and checkpoint number they started from. */
  origin_run?: string | null;
  origin_seq?: number | string | null;
}

/** The checksum a row carries of its data. */
export function checksum(data: string): string {
  return createHash('sha1').update(data).digest('base64');
}

export function summaryOf(row: SummaryRow): CheckpointSummary {
  const summary: CheckpointSummary = {
    runId: row.run_id,
    workflow: row.workflow,
    status: row.status,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
  if (row.error !== null) summary.error = row.error;
  if (typeof row.origin_run === 'string') summary.origin = { runId: row.origin_run, seq: Number(row.origin_seq) };
  return summary;
}
