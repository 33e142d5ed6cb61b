/**
 * What the pipeline stages share during one run.
 */
import type { Decryptor } from '../crypto/ports.js';
import type { QuarantineRecipients } from './quarantine.js';
import type { ErasedFilter } from '../privacy/erased-filter.js';
import type { EnvironmentConfig } from '../config/config-schema.js';
import type { EnvironmentPaths } from '../config/config-store.js';
import type { RunProgress } from '../domain/results.js';
import type { Ledger } from '../ledger/ledger.js';
import type { ObjectSource } from '../sources/ports.js';
import type { DocumentStore, EventStore, RelationalStore } from '../stores/ports.js';

export interface PipelineContext {
  env: string;
  config: EnvironmentConfig;
  paths: EnvironmentPaths;
  source: ObjectSource;
  ledger: Ledger;
  relational: RelationalStore;
  events: EventStore;
  /** Forum dumps and course structures as documents, when the events target is a document database. */
  documents?: DocumentStore;
  /** Created on first use; a failure is reported per encrypted file, not for the whole run. */
  decryptor: () => Promise<Decryptor>;
  /** The environment's keys, whose public parts quarantine files are encrypted to (none: written in clear). */
  quarantineKeys?: QuarantineRecipients;
  /** Learners erased with `pds forget`: their rows and lines are withheld (absent: nobody was erased). */
  erased?: ErasedFilter;
  signal?: AbortSignal;
  /** Course globs narrowing the environment's course filter for this run (RunOptions.courses). */
  courses?: readonly string[];
  onProgress: (event: RunProgress) => void;
}
