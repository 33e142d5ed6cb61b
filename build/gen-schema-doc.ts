/**
 * Generates `docs/schema.md` from the logical schema (`core/domain/tables.ts`): every table and
 * view, its source file, columns, types and notes. `test/unit/schema.test.ts` fails when the
 * committed file is out of date.
 *
 *   node --import tsx build/gen-schema-doc.ts           # write docs/schema.md
 *   node --import tsx build/gen-schema-doc.ts --check   # exit 1 when it is out of date
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ColumnDef, TableDef } from '../core/domain/schema-types.js';
import { SNAPSHOT_COLUMNS } from '../core/domain/schema-types.js';
import { EVENT_TABLES, SUMMARY_VIEWS, WEEKLY_TABLES, tableSource } from '../core/domain/tables.js';

/** Where the generated document lives. */
export const SCHEMA_DOC_PATH = fileURLToPath(new URL('../docs/schema.md', import.meta.url));

/** The formats page that `§` references in the table definitions point into. */
const FORMATS_DOC = 'edx-formats.md';
const FORMATS_DOC_PATH = fileURLToPath(new URL(`../docs/${FORMATS_DOC}`, import.meta.url));

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Section number (`4`, `4.1`) → anchor, from the numbered headings of the formats page. */
function formatsSections(): Map<string, string> {
  const sections = new Map<string, string>();
  for (const line of readFileSync(FORMATS_DOC_PATH, 'utf8').split('\n')) {
    const m = /^#{2,3} +((\d+)(?:\.(\d+))?\.? .*)$/.exec(line);
    if (m) sections.set(m[3] === undefined ? m[2] : `${m[2]}.${m[3]}`, headingAnchor(m[1]));
  }
  return sections;
}

/**
 * Turns the formats-page references of the table definitions (`docs/edx-formats.md §4.1`, or a
 * bare `§7.9`) into links that work from inside docs/. A numbered item without its own heading
 * (the pitfalls `§7.N`) links to its section. A reference to a section the page lacks is an error,
 * so a renumbered page cannot leave dead references behind.
 */
function linkSections(text: string, sections: Map<string, string>): string {
  return text.replace(/docs\/edx-formats\.md /g, 'edX formats ').replace(/§(\d+)(?:\.(\d+))?/g, (ref, major: string, minor?: string) => {
    const anchor = sections.get(minor === undefined ? major : `${major}.${minor}`) ?? (minor !== undefined && !hasSubsections(sections, major) ? sections.get(major) : undefined);
    if (anchor === undefined) throw new Error(`${ref} is cited in the table definitions but docs/${FORMATS_DOC} has no such section.`);
    return `[${ref}](${FORMATS_DOC}#${anchor})`;
  });
}

/** True when section `major` has numbered sub-headings (then `major.minor` must be one of them). */
function hasSubsections(sections: Map<string, string>, major: string): boolean {
  return [...sections.keys()].some((k) => k.startsWith(`${major}.`));
}

/** Markdown-safe table cell: pipes escaped, no line breaks. */
function cell(text: string | undefined): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function typeName(c: ColumnDef): string {
  return c.type === 'varchar' ? `varchar(${c.length ?? 255})` : c.type;
}

function anchor(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '');
}

function renderTable(def: TableDef, link: (text: string) => string): string {
  const out: string[] = [`### ${def.name}`, '', link(def.doc), ''];
  out.push(`- Source: ${tableSource(def)}`);
  if (def.primaryKey) out.push(`- Primary key: ${def.primaryKey.map((c) => `\`${c}\``).join(', ')}`);
  if (def.indexes && def.indexes.length > 0) out.push(`- Indexes: ${def.indexes.map((i) => `(${i.join(', ')})`).join(', ')}`);
  const aliases = Object.entries(def.aliases ?? {});
  if (aliases.length > 0) out.push(`- Header aliases: ${aliases.map(([from, to]) => `\`${from}\` → \`${to}\``).join(', ')}`);
  out.push('', '| column | type | notes |', '|---|---|---|');
  for (const c of def.columns) out.push(`| \`${c.name}\` | ${typeName(c)} | ${c.optional ? '*Some export eras only.* ' : ''}${link(cell(c.doc))} |`);
  out.push('');
  return out.join('\n');
}

function section(title: string, intro: string, defs: readonly TableDef[], link: (text: string) => string): string {
  return [`## ${title}`, '', link(intro), '', ...defs.map((def) => renderTable(def, link))].join('\n');
}

/** The whole document, deterministic for given definitions and formats page. */
export function renderSchemaDoc(): string {
  const sections = formatsSections();
  const link = (text: string): string => linkSections(text, sections);
  const weekly = WEEKLY_TABLES.filter((t) => t.group === 'weekly');
  const ora = WEEKLY_TABLES.filter((t) => t.group === 'ora');
  const contents = [
    ['Weekly tables', weekly],
    ['ORA tables', ora],
    ['Event tables', EVENT_TABLES],
    ['Summary views', SUMMARY_VIEWS],
  ] as const;

  const head = [
    '# Schema',
    '',
    '<!-- Generated from core/domain/tables.ts by build/gen-schema-doc.ts. Do not edit by hand:',
    '     run `node --import tsx build/gen-schema-doc.ts`. -->',
    '',
    'Every relational store (SQLite, MariaDB) creates these tables from one set of definitions, so the',
    'stores agree column for column. The edX files behind them, and the quirks the notes mention, are',
    `described in [the edX formats page](${FORMATS_DOC}); every § below links into it. How a run loads`,
    'the tables: [architecture](architecture.md).',
    '',
    '## Conventions',
    '',
    '- **Weekly snapshots.** Every weekly and ORA table starts with bookkeeping columns, then the data',
    '  columns listed here. A new package replaces one course\'s rows of one table atomically; an',
    '  older package than the one loaded is refused. The stores also keep an internal `load_id`.',
    '',
    '  | column | type | notes |',
    '  |---|---|---|',
    ...SNAPSHOT_COLUMNS.map((c) => `  | \`${c.name}\` | ${typeName(c)} | ${link(cell(c.doc))} |`),
    '',
    '- **Drift.** Columns a file carries that are not listed here are kept, added to the table as',
    '  text; listed columns a file lacks are NULL. A table edX adds is loaded with text columns.',
    '- **Events** are keyed by `event_id`, the sha256 of the raw line: loading a file again adds',
    '  nothing. SQLite keeps that key unique with an index on (event day, `event_id`), the day being',
    "  `ifnull(substr(time, 1, 10), '')`, so that a load touches only its day's part of the index and",
    '  stays as fast when years of events are stored. To look one event up in SQLite, give its day:',
    "  `WHERE ifnull(substr(time, 1, 10), '') = '2026-06-01' AND event_id = ?`.",
    '- **Values.** `NULL` in a file is SQL NULL; an empty field is the empty string. Datetimes are',
    '  UTC `YYYY-MM-DD HH:MM:SS[.ffffff]`.',
    '',
    'Types (logical → MySQL/MariaDB → SQLite):',
    '',
    '| type | MariaDB | SQLite |',
    '|---|---|---|',
    '| int | INT | INTEGER |',
    '| bigint | BIGINT | INTEGER |',
    '| double | DOUBLE | REAL |',
    '| bool | TINYINT(1), 0/1 | INTEGER 0/1 |',
    '| varchar(n) | VARCHAR(n), utf8mb4 (n characters) | TEXT |',
    '| text | TEXT (65,535 bytes) | TEXT |',
    '| longtext | LONGTEXT | TEXT |',
    '| datetime | DATETIME(6) | TEXT `YYYY-MM-DD HH:MM:SS[.ffffff]` |',
    '| date | DATE | TEXT `YYYY-MM-DD` |',
    '',
    '## Contents',
    '',
    ...contents.flatMap(([title, defs]) => [`- ${title}: ${defs.map((d) => `[${d.name}](#${anchor(d.name)})`).join(', ')}`]),
    '',
  ].join('\n');

  return [
    head,
    section('Weekly tables', 'From the weekly package `{org}-{date}.zip` (docs/edx-formats.md §1.3, §4) and the email opt-in package.', weekly, link),
    section('ORA tables', 'From the `ora/` folder of the weekly package (docs/edx-formats.md §4.9). Learners are identified by the course-specific anonymous id.', ora, link),
    section('Event tables', 'From the daily tracking logs (docs/edx-formats.md §5). `events` holds every line; the other tables hold the fields of the families analysts query most.', EVENT_TABLES, link),
    section('Summary views', 'Views over the tables above, defined by each store.', SUMMARY_VIEWS, link),
  ]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\n*$/, '\n');
}

function main(argv: string[]): number {
  const doc = renderSchemaDoc();
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(SCHEMA_DOC_PATH, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current !== doc) {
      process.stderr.write('docs/schema.md is out of date: run `node --import tsx build/gen-schema-doc.ts`.\n');
      return 1;
    }
    return 0;
  }
  mkdirSync(dirname(SCHEMA_DOC_PATH), { recursive: true });
  writeFileSync(SCHEMA_DOC_PATH, doc);
  process.stdout.write(`Wrote ${SCHEMA_DOC_PATH}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
