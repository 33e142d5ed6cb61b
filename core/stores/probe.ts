/**
 * What a read-only probe of a target reports (the console's "test connection", `pds db check`):
 * each step checked, in order, with a fix for the ones that fail. Probes create and migrate
 * nothing: no database, table, collection or index.
 */

/** One step of a probe: what was checked, what was found and, when it failed, what to do. */
export interface ProbeStep {
  name: string;
  ok: boolean;
  /** One or two sentences for a person. */
  detail: string;
  fix?: string;
}

/** The probe of one target of an environment. */
export interface TargetProbe {
  target: 'relational' | 'events';
  engine: string;
  ok: boolean;
  /** One line for a person. */
  summary: string;
  steps: ProbeStep[];
}
