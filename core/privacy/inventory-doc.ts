/**
 * `docs/data-protection.md`: the factual annex of a Data Protection Impact Assessment, rendered
 * from the inventory (`core/domain/personal-data.ts`, attached to the columns of
 * `core/domain/tables.ts`) and one environment's configuration: what personal data is held, in
 * which store, table, collection and file, for which purpose, for how long, and who can read it.
 * `pds docs privacy [--env E]` writes it; the committed file describes the default configuration
 * and `test/unit/personal-data.test.ts` fails when it is out of date.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EnvironmentConfig } from '../config/config-schema.js';
import { getEnvironment, loadConfig } from '../config/config-store.js';
import { environmentSchema } from '../config/config-schema.js';
import { EVENT_DOCUMENT_FIELDS, EVENT_FIELDS, PERSONAL_CLASSES, PERSONAL_CLASS_DOC, type FieldClass } from '../domain/personal-data.js';
import type { TableDef } from '../domain/schema-types.js';
import { DERIVED_TABLES, EVENT_TABLES, SUMMARY_VIEWS, WEEKLY_TABLES } from '../domain/tables.js';
import { retentionPolicy, type RetentionLine } from './retention-policy.js';
import type { PrivacyInventoryData } from '../contract/privacy-schemas.js';

/** The configuration the committed document describes: every default, a local source. */
export function defaultEnvironmentConfig(): EnvironmentConfig {
  return environmentSchema.parse({ source: { type: 'local', path: 'deliveries' } });
}

/** Purpose of each group of tables, for the inventory. */
const PURPOSE: Record<TableDef['group'], string> = {
  weekly: 'Course research and reporting: who is enrolled, their profile, grades and certificates (weekly snapshot from edX, replaced each week).',
  ora: 'Research on open-response assessments (weekly snapshot).',
  events: 'Learning analytics: what learners did and when (daily tracking logs).',
  derived: 'Activity counts per course and day for the reports.',
  summary: 'Reports (views over the tables; hold nothing themselves).',
};

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** The tables with their personal columns per class (every class but not-personal, in order). */
function tablesOf(defs: readonly TableDef[], store: string): PrivacyInventoryData['tableGroups'][number]['tables'] {
  return defs.map((def) => ({
    name: def.name,
    store,
    columns: PERSONAL_CLASSES.filter((c) => c !== 'not-personal').map((cls) => ({ class: cls, names: def.columns.filter((c) => c.personal === cls).map((c) => c.name) })),
  }));
}

function fieldRows(fields: readonly FieldClass[]): string[] {
  return fields.map((f) => `| \`${f.field}\` | ${f.personal} | ${cell(f.doc)} |`);
}

function relationalWhere(name: string, config: EnvironmentConfig): string {
  const r = config.targets.relational;
  return r.type === 'sqlite' ? `SQLite \`envs/${name}/${r.path ?? 'data.sqlite'}\`` : `MariaDB database${r.database ? ` \`${r.database}\`` : ''}`;
}

function eventsWhere(name: string, config: EnvironmentConfig): string {
  const e = config.targets.events;
  return e.type === 'sqlite' ? `SQLite \`envs/${name}/${e.path ?? 'data.sqlite'}\`` : `MongoDB database \`${e.database}\``;
}

/** The personal-data inventory of one environment (`name` as it appears in the texts): what `pds docs privacy` renders and the console shows. */
export function privacyInventory(name: string, config: EnvironmentConfig): PrivacyInventoryData {
  const rel = relationalWhere(name, config);
  const ev = eventsWhere(name, config);
  const mongo = config.targets.events.type === 'mongodb' ? config.targets.events : undefined;
  const prefix = mongo?.collectionPrefix ?? '';
  const retention = retentionPolicy(config);
  const places: PrivacyInventoryData['places'] = [
    {
      place: `Landing folder \`envs/${name}/landing/\``,
      what: `The files as edX delivered them`,
      personal: `all of it, **OpenPGP-encrypted** as edX sent it`,
      purpose: `Re-load without fetching again; proof of what was received`,
      kept: `${retention.landing}`,
      readableBy: `the OS account owning the home folder (folder 0700), with the environment's secret key`,
    },
    {
      place: `Quarantine \`envs/${name}/landing/quarantine/\``,
      what: `Lines that could not be loaded, and an index of their numbers and reasons`,
      personal: `any (whole lines), **OpenPGP-encrypted to the environment's own key** (\`.gpg\`; in clear only when the environment has no key, i.e. plain deliveries)`,
      purpose: `Fix and re-load; shown in the run report`,
      kept: `${retention.quarantine}`,
      readableBy: `the OS account owning the home folder (files 0600)`,
    },
    {
      place: `Relational store: ${rel}`,
      what: `Weekly tables, event tables and summaries (below)`,
      personal: `all classes`,
      purpose: `Reports and research queries`,
      kept: `${retention.snapshots}; events ${retention.events}`,
      readableBy: `${config.targets.relational.type === 'sqlite' ? 'the OS account owning the home folder (file 0600)' : 'MariaDB accounts granted on the database (`pds db grants`)'}`,
    },
    {
      place: `Event store: ${ev}`,
      what: `${mongo ? `Collections \`${prefix}events\` (one document per tracking-log line), \`${prefix}forum__…\` / \`${prefix}forum_snapshots\` (forum dumps), \`${prefix}course_structure\`` : 'Tables `events` and the designated event tables (below)'}`,
      personal: `all classes`,
      purpose: `Learning analytics`,
      kept: `${retention.events}`,
      readableBy: `${mongo ? 'MongoDB users with read access to the database' : 'the OS account owning the home folder (file 0600)'}`,
    },
    {
      place: `Pseudonym map \`pds_pseudonyms\` and views \`pseudo_*\` in the relational store`,
      what: `Each learner's pseudonym (HMAC-SHA-256 of the user id under \`privacy.secret\`); views with user ids replaced by pseudonyms, direct identifiers and free text left out`,
      personal: `the map links pseudonyms to user ids; the views hold pseudonymous data and quasi-identifiers`,
      purpose: `Analytics without identities`,
      kept: `refreshed after every run; an erased learner leaves the map`,
      readableBy: `the map: as the tables; the views: the read-only analyst role (\`pds db grants\`)`,
    },
    {
      place: `Record \`pds_snapshot_learners\` in the relational store`,
      what: `The user ids of the weekly snapshot's learners as of the last run, and of those edX removed from it while their events remain`,
      personal: `pseudonymous ids only`,
      purpose: `Finding the learners edX retired by removing them, so that they are reported and, with \`privacy.eraseRetired\`, erased`,
      kept: `brought up to date after every run; an erased learner leaves it`,
      readableBy: `as the tables`,
    },
    {
      place: `Ledger \`envs/${name}/ledger.sqlite\``,
      what: `Runs, files, stages, rejected line numbers and reasons; erasure records and the audit log`,
      personal: `none: file names, counts, codes; erased learners only as keyed hashes (HMAC-SHA-256) of their ids, never the values`,
      purpose: `Operating the loads; accountability`,
      kept: `kept`,
      readableBy: `the OS account owning the home folder (file 0600)`,
    },
    {
      place: `Report exports saved under the home folder`,
      what: `\`pds export learners --out\`, \`pds query … --csv\` files the operator keeps there (elsewhere they are outside pds)`,
      personal: `as exported (user id, username, e-mail; with \`--pseudonymise\`, pseudonyms only)`,
      purpose: `Handing reports to teaching teams`,
      kept: `until deleted by the operator; an erased learner's lines are removed from CSV, TSV and JSON-lines files under the home folder`,
      readableBy: `the OS account owning the home folder`,
    },
    {
      place: `Keys \`envs/${name}/keys/\``,
      what: `The environment's OpenPGP secret keys`,
      personal: `none (they protect the data)`,
      purpose: `Decrypting deliveries and quarantine files`,
      kept: `until removed`,
      readableBy: `the OS account owning the home folder`,
    },
  ];
  const tableGroups: PrivacyInventoryData['tableGroups'] = [
    { title: 'Weekly snapshot tables', purpose: PURPOSE.weekly, tables: tablesOf(WEEKLY_TABLES.filter((t) => t.group === 'weekly'), rel) },
    { title: 'ORA tables', purpose: PURPOSE.ora, tables: tablesOf(WEEKLY_TABLES.filter((t) => t.group === 'ora'), rel) },
    {
      title: 'Event tables',
      purpose: PURPOSE.events,
      tables: tablesOf(EVENT_TABLES, config.targets.events.type === 'mongodb' ? `${ev} (collection \`${prefix}events\`); designated tables in ${rel}` : ev),
    },
    { title: 'Derived tables and views', purpose: `${PURPOSE.derived} ${PURPOSE.summary}`, tables: tablesOf([...DERIVED_TABLES, ...SUMMARY_VIEWS], rel) },
  ];
  return {
    env: name,
    classes: PERSONAL_CLASSES.map((c) => ({ class: c, meaning: PERSONAL_CLASS_DOC[c] })),
    places,
    retention: retention.lines.map((l: RetentionLine) => ({ what: l.what, rule: l.rule })),
    tableGroups,
    eventFields: EVENT_FIELDS.map((f) => ({ ...f })),
    eventDocumentFields: EVENT_DOCUMENT_FIELDS.map((f) => ({ ...f })),
  };
}

/** The document for one environment (`name` as it appears in the text). */
export function renderDataProtectionDoc(name: string, config: EnvironmentConfig): string {
  const mongo = config.targets.events.type === 'mongodb' ? config.targets.events : undefined;
  const prefix = mongo?.collectionPrefix ?? '';
  const inv = privacyInventory(name, config);
  const header = [
    '| table | store | direct identifiers | pseudonymous ids | quasi-identifiers | free text |',
    '|---|---|---|---|---|---|',
  ];
  const out: string[] = [
    '# Data protection: what personal data pds holds',
    '',
    '<!-- Generated by `pds docs privacy` from core/domain/personal-data.ts and the environment\'s',
    `     configuration (here: ${name}). Do not edit by hand. -->`,
    '',
    'The data pds receives from edX is learners\' personal data under the GDPR. This page is the',
    'factual annex of a Data Protection Impact Assessment: what is held, where, why, for how long and',
    `who can read it, for the environment **${name}** as configured. Regenerate it with`,
    '`pds docs privacy --env NAME` after changing the configuration or upgrading pds.',
    '',
    '## Classes of data',
    '',
    '| class | meaning |',
    '|---|---|',
    ...inv.classes.map((c) => `| ${c.class} | ${cell(c.meaning)} |`),
    '',
    'A class describes a value on its own: every row carrying a learner\'s id is personal data as a whole.',
    'Columns edX adds that pds does not know yet are loaded as text and are treated as free text.',
    '',
    '## Where it is held',
    '',
    '| place | what | personal data | purpose | kept | readable by |',
    '|---|---|---|---|---|---|',
    ...inv.places.map((p) => `| ${[p.place, p.what, p.personal, p.purpose, p.kept, p.readableBy].join(' | ')} |`),
    '',
    'Nothing is written in clear outside the databases: landing copies stay encrypted as edX sent them,',
    'decryption streams straight into the stores (no decrypted temporary file), quarantine files are',
    'encrypted to the environment\'s own key and decrypted on demand for the report and the console, and',
    'the SQLite files (database, ledger, their `-wal` and `-shm`) are created with mode 0600.',
    '',
    '## Retention in force',
    '',
    ...inv.retention.map((l) => `- ${l.what}: ${l.rule}`),
    '',
    '## Rights of the learners: erasure',
    '',
    '`pds forget --env NAME --user USERNAME|EMAIL|ID [--dry-run]` (the console: Privacy) removes one learner',
    'from every table (by user id, username, e-mail, and the anonymous, profile and submission ids derived',
    'from them), from the events (by user id and username, including lines whose only trace is',
    '`username`, `context.user_id`, `event.user_id`, and other learners\' lines naming them as',
    '`event.target_username`), the designated event tables, the daily summaries (recounted), other',
    'learners\' forum posts (their id removed from voters and flaggers), the quarantine files and the',
    'exports under the home folder. SQLite is told to overwrite deleted rows (`secure_delete`) and is',
    'vacuumed and checkpointed, so no copy stays in free pages or the WAL. The ledger records when, by',
    'whom, which stores and how many rows, with the erased ids only as keyed hashes: later deliveries that',
    'still carry the learner are filtered on load (warning `ERASED_WITHHELD`).',
    '',
    'Learners edX has retired are reported after each run: those renamed `retired__user_…`, and those',
    'gone from every course of a new weekly snapshot while the events already loaded still carry them',
    '(the record `pds_snapshot_learners` remembers who was in the last snapshot; a purge of old',
    'snapshot rows is not taken for a departure; gone means absent from `auth_user`, the enrolments',
    'and the profiles alike). `pds forget --env NAME --retired [--dry-run]` erases them all; with',
    '`privacy.eraseRetired: true` they are erased after every run, each erasure recorded with reason',
    '`retired`, except when more than 20 (and 2% of the learners) leave at once: the run then warns',
    'and leaves them to the operator.',
    '',
    '## Pseudonymised analytics',
    '',
    'After every run (and with `pds db pseudonymise`) the relational store gets a map table',
    '`pds_pseudonyms (user_id, pseudonym)` and one view `pseudo_<table>` per table carrying a user id: the',
    'user id replaced by `<name>_pseudonym`, direct identifiers, other ids and free text left out, the',
    'other columns kept. A pseudonym is the same across runs, tables and stores, and differs under',
    'another environment\'s secret. `pds db grants --env NAME` prints the MariaDB statements for a',
    'read-only analyst role that reads only these views and the per-course summaries, and a data-czar',
    'role. `pds export learners --pseudonymise` writes the same pseudonyms and no username or e-mail.',
    '',
    '## Tables and views',
    '',
    'Per table, the columns holding personal data by class (every other column is not personal).',
    '',
    ...inv.tableGroups.flatMap((g) => [`### ${g.title}`, '', g.purpose, '', ...header, ...g.tables.map((t) => `| \`${t.name}\` | ${t.store} | ${t.columns.map((c) => c.names.map((n) => `\`${n}\``).join(', ') || '—').join(' | ')} |`), '']),
    '## Fields of a tracking-log line',
    '',
    `Every line is kept whole: ${config.targets.events.type === 'mongodb' ? `one document per line in \`${prefix}events\`` : 'the `raw` column of `events`'}.`,
    '',
    '| field | class | holds |',
    '|---|---|---|',
    ...fieldRows(EVENT_FIELDS),
    '',
    ...(mongo
      ? ['Fields pds adds to a MongoDB event document:', '', '| field | class | holds |', '|---|---|---|', ...fieldRows(EVENT_DOCUMENT_FIELDS), '']
      : ['With a MongoDB event store, pds adds to each document:', '', '| field | class | holds |', '|---|---|---|', ...fieldRows(EVENT_DOCUMENT_FIELDS), '']),
  ];
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').replace(/\n*$/, '')}\n`;
}

/** Where the committed document lives, relative to the repository root. */
export const DATA_PROTECTION_DOC = 'docs/data-protection.md';

/** The name the committed document gives the environment it describes. */
export const DEFAULT_ENV_LABEL = 'ENV';

/** The committed document: the default configuration. */
export function renderDefaultDataProtectionDoc(): string {
  return renderDataProtectionDoc(DEFAULT_ENV_LABEL, defaultEnvironmentConfig());
}

/**
 * Writes the document for `env` (or the default configuration) to `out` and returns its path.
 * @throws ConfigError when the environment is not configured.
 */
export async function writeDataProtectionDoc(home: string, env: string | undefined, out: string): Promise<string> {
  const text = env === undefined ? renderDefaultDataProtectionDoc() : renderDataProtectionDoc(env, getEnvironment(await loadConfig(home), env));
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, text);
  return out;
}
