/**
 * `generateDemoData`: writes a realistic edX delivery into a folder laid out like the two S3
 * buckets (docs/edx-formats.md §1): the weekly database package, the email opt-in package and a week of
 * daily event logs, encrypted member by member through the caller's OpenPGP function (§2) or left
 * plain. It carries the format's quirks (§3, §4, §7) and one deliberately corrupt file, and
 * returns a manifest of exact counts a correct load must reproduce. Deterministic for a seed (the
 * ciphertext aside: OpenPGP encryption is randomised).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import yazl from 'yazl';

import { ConfigError } from '../errors/index.js';
import { courseOutline } from './course-outline.js';
import type { DemoCourseInfo, DemoEventDay, DemoEventQuirks, DemoManifest, DemoMemberInfo } from './demo-manifest.js';
import { buildDemoRoster, type DemoCourseSpec, type DemoRoster } from './demo-roster.js';
import { buildCourseFiles, createIdSpaces } from './demo-tables.js';
import { EventLineFactory, type EventEnvelope, type EventLineUser } from './generate-event-lines.js';
import { eventTime, parseDay } from './event-times.js';
import { pythonJson, type JsonValue } from './python-json.js';
import { SeededRandom } from './seeded-random.js';
import { tarGz } from './tar-gz.js';
import { tsvFile } from './tsv-line.js';

export { generateEventLines, type EventLineUser, type GenerateEventLinesOptions } from './generate-event-lines.js';
export type { DemoManifest } from './demo-manifest.js';

/** Encrypts one plaintext to the data czar's keys (the product's real OpenPGP path, e.g. `encryptToKeys`). */
export interface DemoEncryption {
  /** The recipients' armored public keys (recorded in the manifest by count). */
  armoredPublicKeys: string[];
  /** Returns a binary OpenPGP message for `plain`, as edX's gpg call writes (§2). */
  encrypt: (plain: Uint8Array) => Promise<Uint8Array>;
}

/** Options for `generateDemoData`. */
export interface GenerateDemoDataOptions {
  /** Folder to write into; it gets `course-data/` and `edx-course-data/` like the two buckets. */
  outDir: string;
  /** Org as edX spells it (`DemoX`); lower-cased in object keys (§1.1). Letters, digits, `_` and `.` only. */
  org?: string;
  /** Weekly package date `YYYY-MM-DD`; default 2026-06-07 (a Sunday). */
  packageDate?: string;
  /** Daily logs for this many days ending the day before the package date; default 7. */
  days?: number;
  /** Ordinary events per day (quirk lines come on top); default 2000, at least 20. */
  eventsPerDay?: number;
  /** PRNG seed; default 20260607. */
  seed?: number;
  /** Encrypt every member and log; plain files when absent. */
  encryptTo?: DemoEncryption;
}

/** The default package date: a Sunday, as edX's weekly exports are. */
export const DEMO_PACKAGE_DATE = '2026-06-07';
export const DEMO_SEED = 20260607;
const DAY_MS = 86_400_000;

/** The demo's courses: both id styles, `-` and `.` in a course number, an edge-site course (§1.2, §1.3). */
function demoCourses(org: string): DemoCourseSpec[] {
  const course = (spec: Omit<DemoCourseSpec, 'teams' | 'cohorts' | 'olx' | 'studentModule' | 'profileDrift' | 'includeRetired'> & Partial<DemoCourseSpec>): DemoCourseSpec => ({
    teams: false,
    cohorts: false,
    olx: false,
    studentModule: true,
    profileDrift: false,
    includeRetired: false,
    ...spec,
  });
  return [
    course({
      courseId: `course-v1:${org}+Data101+2T2026`,
      site: 'edx',
      env: 'prod-analytics',
      userIdMapIdColumn: 'user_id',
      enrollments: 26,
      teams: true,
      cohorts: true,
      olx: true,
      forumDates: 'iso',
      include: ['bob', 'zoe_ng', 'yoshino_k', 'marie_dorsay', 'demo_staff', 'josé_ruiz'],
    }),
    course({
      courseId: `${org}/Hist202/2014_Fall`,
      site: 'edx',
      env: 'prod-analytics',
      userIdMapIdColumn: 'id',
      profileDrift: true,
      enrollments: 14,
      forumDates: 'number',
      include: ['li_wei', 'jane_smith', 'bob', 'demo_staff'],
      includeRetired: true,
    }),
    course({
      courseId: `course-v1:${org}+6.00.1-x+1T2026`,
      site: 'edx',
      env: 'prod-analytics',
      userIdMapIdColumn: 'id',
      enrollments: 18,
      cohorts: true,
      forumDates: 'mixed',
      include: ['bob', 'marie_dorsay', 'demo_staff'],
      includeRetired: true,
    }),
    course({
      courseId: `course-v1:${org}+EdgeLab+2026`,
      site: 'edge',
      env: 'prod-edge-analytics',
      userIdMapIdColumn: 'user_id',
      enrollments: 5,
      studentModule: false,
      forumDates: 'number',
      include: ['demo_staff'],
    }),
  ];
}

/** The task whose export "failed" (§4.9: rubric queries went through dropped AI tables). */
const FAILED_TABLE = 'assessment_rubric';
const FAILED_TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/edx/app/exporter/exporter/main.py", line 187, in run_task',
  '    task.run(config, filename)',
  '  File "/edx/app/exporter/exporter/tasks.py", line 104, in run',
  '    cursor.execute(query)',
  '  File "/edx/app/exporter/venv/lib/python3.8/site-packages/mysql/connector/cursor_cext.py", line 272, in execute',
  '    result = self._cnx.cmd_query(stmt, raw=self._raw, buffered=self._buffered,',
  '  File "/edx/app/exporter/venv/lib/python3.8/site-packages/mysql/connector/connection_cext.py", line 633, in cmd_query',
  '    raise get_mysql_exception(exc.errno, msg=exc.msg, sqlstate=exc.sqlstate) from exc',
  "mysql.connector.errors.ProgrammingError: 1146 (42S02): Table 'edxapp.assessment_aiclassifierset' doesn't exist",
  '',
].join('\n');

function optionError(field: string, what: string): ConfigError {
  return new ConfigError(`The demo option \`${field}\` ${what}.`, { code: 'DEMO_OPTION', hint: `Fix \`${field}\` and run the demo generator again.` });
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

interface PendingMember {
  name: string;
  data: Buffer;
  info: Omit<DemoMemberInfo, 'name' | 'bytes' | 'encrypted'>;
}

/** Writes a zip with yazl: fixed timestamps so equal inputs give equal bytes. */
async function writeZip(path: string, directories: string[], members: { name: string; data: Buffer; compress: boolean }[], mtime: Date): Promise<number> {
  const zip = new yazl.ZipFile();
  for (const dir of directories) zip.addEmptyDirectory(dir, { mtime });
  for (const m of members) zip.addBuffer(m.data, m.name, { mtime, compress: m.compress });
  zip.end();
  await mkdir(dirname(path), { recursive: true });
  let bytes = 0;
  const counted = zip.outputStream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  await pipeline(counted, createWriteStream(path));
  return bytes;
}

/** Email opt-in CSV (§3): Django csv with minimal quoting and CRLF; the header re-written per chunk of courses. */
function buildEmailOptIn(roster: DemoRoster, specs: DemoCourseSpec[]): { text: string; rows: number; headerLines: number } {
  const header = 'user_id,username,email,full_name,course_id,is_opted_in_for_email,preference_set_datetime';
  const quote = (value: string): string => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  const chunkSize = 2;
  const lines: string[] = [];
  let rows = 0;
  let headerLines = 0;
  // Only edx.org: the edge site is skipped (§1.3).
  const courses = specs.filter((s) => s.site === 'edx');
  courses.forEach((spec, index) => {
    if (index % chunkSize === 0) {
      lines.push(header);
      headerLines++;
    }
    for (const e of roster.byCourse.get(spec.courseId) ?? []) {
      const user = roster.usersById.get(e.userId);
      if (!user) continue;
      const pref = user.optIn;
      lines.push(
        [String(user.id), user.username, user.email, user.profile.name, spec.courseId, pref === null || pref.optedIn ? 'True' : 'False', pref === null ? '2014-12-01 00:00:00' : pref.setAt]
          .map(quote)
          .join(','),
      );
      rows++;
    }
  });
  return { text: lines.map((l) => `${l}\r\n`).join(''), rows, headerLines };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface QuirkLine {
  /** Insert after this many ordinary lines (≥ 1). */
  after: number;
  quirk: keyof DemoEventQuirks;
  /** The line, or null for the duplicate (filled from ordinary line `copyOf`). */
  line: string | null;
  copyOf?: number;
  bad: boolean;
  repaired: boolean;
}

function emptyQuirks(): DemoEventQuirks {
  return {
    truncated: 0,
    syslogPrefix: 0,
    invalidEscape: 0,
    usernameNewline: 0,
    blankUser: 0,
    courseIdEmpty: 0,
    courseIdNull: 0,
    courseIdNewline: 0,
    duplicate: 0,
    dottedKeys: 0,
    timeWithoutFraction: 0,
    timeWithoutOffset: 0,
    unicodeEventType: 0,
    mobileLate: 0,
  };
}

/** Cuts `line` where the old logger would have (§7.1), at an ASCII character other than `}` so no repair can rescue it. */
function truncateLine(line: string): string {
  let cut = line.length > 2043 ? 2043 : Math.floor(line.length * 0.6);
  while (cut > 10 && (line.charCodeAt(cut - 1) > 127 || line[cut - 1] === '}')) cut--;
  return line.slice(0, cut);
}

/** The §7 lines of one day, built by their own factory so the ordinary stream is unchanged by them. */
function buildQuirkLines(factory: EventLineFactory, rng: SeededRandom, ordinary: number, users: readonly EventLineUser[]): QuirkLine[] {
  const day = factory.dayStartMicros;
  const at = (): number => day + rng.int(0, 86_399_999_999);
  const after = (): number => rng.int(1, ordinary);
  const ctx = (envelope: EventEnvelope): { [key: string]: JsonValue } => envelope.context as { [key: string]: JsonValue };
  const out: QuirkLine[] = [];
  const push = (quirk: keyof DemoEventQuirks, envelope: EventEnvelope | string, flags: { bad?: boolean; repaired?: boolean } = {}): void => {
    out.push({ after: after(), quirk, line: typeof envelope === 'string' ? envelope : pythonJson(envelope), bad: flags.bad ?? false, repaired: flags.repaired ?? false });
  };

  for (const kind of ['problem-graded', 'implicit-post', 'forum'] as const) push('truncated', truncateLine(pythonJson(factory.envelope(kind, at()))), { bad: true });

  const syslogTime = at();
  const d = new Date(Math.floor(syslogTime / 1000));
  const prefix = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} localhost `;
  push('syslogPrefix', prefix + pythonJson(factory.envelope('video', syslogTime)), { repaired: true });

  const search = factory.envelope('implicit', at());
  search.event = pythonJson({ POST: {}, GET: { q: ["Université Paris-Saclay d'Orsay"] } });
  push('invalidEscape', pythonJson(search).replace("d'Orsay", "\\d'Orsay"), { repaired: true });

  const bob = users.find((u) => u.username === 'bob') ?? users[0];
  const trailing = factory.envelope('video', at(), bob);
  trailing.username = `${bob.username}\n`;
  push('usernameNewline', trailing);

  const loggedOut = factory.envelope('implicit', at());
  loggedOut.username = '';
  loggedOut.session = '';
  ctx(loggedOut).user_id = '';
  ctx(loggedOut).course_user_tags = {};
  push('blankUser', loggedOut);

  const dashboard = factory.envelope('implicit', at());
  dashboard.event_type = '/dashboard';
  ctx(dashboard).path = '/dashboard';
  ctx(dashboard).course_id = '';
  ctx(dashboard).course_user_tags = {};
  push('courseIdEmpty', dashboard);

  const noCourse = factory.envelope('outline', at());
  ctx(noCourse).course_id = null;
  push('courseIdNull', noCourse);

  const newlineCourse = factory.envelope('grades', at());
  ctx(newlineCourse).course_id = `${String(ctx(newlineCourse).course_id)}\n`;
  push('courseIdNewline', newlineCourse);

  out.push({ after: after(), quirk: 'duplicate', line: null, bad: false, repaired: false });

  const tagged = factory.envelope('sequence', at());
  ctx(tagged).course_user_tags = { 'xblock.partition_service.partition_0': '1', 'enrollment_track.partition_50': 'verified' };
  push('dottedKeys', tagged);

  const seconds = factory.envelope('implicit', at());
  seconds.time = eventTime(at(), 'seconds');
  push('timeWithoutFraction', seconds);
  const naive = factory.envelope('showanswer', at());
  naive.time = eventTime(at(), 'no-offset');
  push('timeWithoutOffset', naive);

  const wiki = factory.envelope('implicit', at());
  const course = String(ctx(wiki).course_id);
  const path = `/courses/${course}/wiki/${courseOutline(course).course}/café-résumé\u200b/`;
  wiki.event_type = path;
  ctx(wiki).path = path;
  push('unicodeEventType', wiki);

  // Recorded offline two days earlier, received today: the file is bucketed by received_at (§1.1).
  const lateAt = at();
  const late = factory.envelope('mobile-video', lateAt);
  late.time = eventTime(lateAt - 2 * DAY_MS * 1000);
  push('mobileLate', late);

  for (const q of out) if (q.quirk === 'duplicate') q.copyOf = rng.int(1, q.after);
  return out.sort((a, b) => a.after - b.after);
}

/** Writes one day's log (gzip, then encrypt: §2) and returns its manifest entry. */
async function writeEventDay(options: {
  outDir: string;
  key: string;
  date: string;
  seed: number;
  eventsPerDay: number;
  courseIds: string[];
  users: EventLineUser[];
  encryptTo?: DemoEncryption;
  corrupt: boolean;
}): Promise<{ day: DemoEventDay; originalBytes: number }> {
  const { date, eventsPerDay } = options;
  const main = new EventLineFactory({ seed: options.seed, date, courseIds: options.courseIds, users: options.users });
  const quirkRng = new SeededRandom(options.seed).fork(`quirks:${date}`);
  const quirkFactory = new EventLineFactory({ seed: quirkRng.seed, date, courseIds: options.courseIds, users: options.users });
  const quirks = buildQuirkLines(quirkFactory, quirkRng, eventsPerDay, options.users);
  const wanted = new Set(quirks.flatMap((q) => (q.copyOf === undefined ? [] : [q.copyOf])));
  const kept = new Map<number, string>();
  const seen = new Set<string>();
  const counts = emptyQuirks();
  let lines = 0;
  let bad = 0;
  let repaired = 0;

  function* source(): Generator<Buffer> {
    let batch: string[] = [];
    let batchChars = 0;
    let index = 0;
    let next = 0;
    const emit = (line: string, isBad: boolean): void => {
      lines++;
      if (isBad) bad++;
      else seen.add(createHash('sha1').update(line).digest('base64'));
      batch.push(line);
      batchChars += line.length + 1;
    };
    for (const line of main.lines(eventsPerDay)) {
      index++;
      if (wanted.has(index)) kept.set(index, line);
      emit(line, false);
      while (next < quirks.length && quirks[next].after === index) {
        const q = quirks[next++];
        const text = q.line ?? (kept.get(q.copyOf ?? -1) as string);
        counts[q.quirk]++;
        if (q.repaired) repaired++;
        emit(text, q.bad);
      }
      if (batchChars >= 1 << 20) {
        yield Buffer.from(`${batch.join('\n')}\n`, 'utf8');
        batch = [];
        batchChars = 0;
      }
    }
    if (batch.length > 0) yield Buffer.from(`${batch.join('\n')}\n`, 'utf8');
  }

  const chunks: Buffer[] = [];
  await pipeline(Readable.from(source()), createGzip({ level: 6, chunkSize: 256 * 1024 }), async (gz: AsyncIterable<Buffer>) => {
    for await (const chunk of gz) chunks.push(chunk);
  });
  let data: Uint8Array = Buffer.concat(chunks);
  if (options.encryptTo) data = await options.encryptTo.encrypt(data);
  const originalBytes = data.length;
  // The one broken file: cut the stored bytes so gunzip (plain) or decryption (encrypted) fails.
  if (options.corrupt) data = data.subarray(0, Math.floor(data.length * 0.6));
  const path = join(options.outDir, ...options.key.split('/'));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
  return {
    day: { date, key: options.key, lines, goodEvents: seen.size, badLines: bad, repairedLines: repaired, quirks: counts, corrupt: options.corrupt, bytes: data.length },
    originalBytes,
  };
}

/**
 * Writes the demo delivery into `options.outDir` and returns what it wrote:
 *
 * - `course-data/{org-lc}-{date}.zip`: members under `{org}-{date}/` and `{org}-{date}/ora/`, each
 *   encrypted on its own (`X.gpg`) when `encryptTo` is given (§1.3);
 * - `course-data/email-opt-in/{org-lc}-{date}.zip` with `{org}-email_opt_in-prod-analytics.csv(.gpg)`;
 * - `edx-course-data/{org-lc}/edx/events/{YYYY}/{org-lc}-edx-events-{YYYY-MM-DD}.log.gz(.gpg)` for
 *   `days` days ending the day before the package date; the last one is deliberately truncated.
 *
 * Throws a ConfigError for invalid options; file-system errors propagate.
 */
export async function generateDemoData(options: GenerateDemoDataOptions): Promise<DemoManifest> {
  const org = options.org ?? 'DemoX';
  if (!/^[A-Za-z0-9_.]{1,40}$/.test(org)) throw optionError('org', 'may hold only letters, digits, `_` and `.` (a `-` would make file names ambiguous)');
  const packageDate = options.packageDate ?? DEMO_PACKAGE_DATE;
  const packageMs = parseDay(packageDate, 'packageDate');
  const days = options.days ?? 7;
  if (!Number.isInteger(days) || days < 1 || days > 366) throw optionError('days', 'must be a whole number from 1 to 366');
  const eventsPerDay = options.eventsPerDay ?? 2000;
  if (!Number.isInteger(eventsPerDay) || eventsPerDay < 20) throw optionError('eventsPerDay', 'must be a whole number of at least 20');
  const seed = (options.seed ?? DEMO_SEED) >>> 0;
  const { outDir, encryptTo } = options;
  const orgLc = org.toLowerCase();
  const encrypted = encryptTo !== undefined;
  const gpg = encrypted ? '.gpg' : '';
  const rng = new SeededRandom(seed);
  const mtime = new Date(packageMs + 3 * 3_600_000);

  const specs = demoCourses(org);
  const roster = buildDemoRoster({ courses: specs, packageMs, rng, org });
  const ids = createIdSpaces(rng.fork('ids'));
  const folder = `${org}-${packageDate}`;

  // Weekly package members.
  const pending: PendingMember[] = [];
  const tables: Record<string, Record<string, number>> = {};
  const forumDocuments: Record<string, number> = {};
  const courseStructureBlocks: Record<string, number> = {};
  const courses: DemoCourseInfo[] = [];
  const failedMembers: string[] = [];
  specs.forEach((spec, index) => {
    const outline = courseOutline(spec.courseId);
    const key = outline.courseKey;
    const files = buildCourseFiles({ spec, outline, roster, ids, rng, packageMs });
    const enrollments = roster.byCourse.get(spec.courseId) ?? [];
    courses.push({ courseId: spec.courseId, courseKey: key, site: spec.site, env: spec.env, enrollments: enrollments.length, activeEnrollments: enrollments.filter((e) => e.isActive === 1).length });
    for (const t of files.tables) {
      (tables[t.table] ??= {})[key] = t.rows.length;
      pending.push({
        name: `${folder}/${t.ora ? 'ora/' : ''}${key}-${t.table}-${spec.env}.sql`,
        data: Buffer.from(tsvFile(t.header, t.rows), 'utf8'),
        info: { kind: 'weekly-table', courseKey: key, table: t.table, ora: t.ora, records: t.rows.length },
      });
    }
    courseStructureBlocks[key] = files.structure.blocks;
    pending.push({ name: `${folder}/${key}-course_structure-${spec.env}.json`, data: Buffer.from(files.structure.text, 'utf8'), info: { kind: 'course-structure', courseKey: key, ora: false, records: files.structure.blocks } });
    forumDocuments[key] = files.forum.documents;
    // The forum dump names the bare environment, not `-analytics` (§1.3).
    pending.push({ name: `${folder}/${key}-${spec.site === 'edge' ? 'edge' : 'prod'}.mongo`, data: Buffer.from(files.forum.text, 'utf8'), info: { kind: 'forum', courseKey: key, ora: false, records: files.forum.documents } });
    if (files.olx) pending.push({ name: `${folder}/${key}-course-${spec.env}.xml.tar.gz`, data: tarGz(files.olx, mtime), info: { kind: 'olx', courseKey: key, ora: false } });
    if (index === 0) {
      const name = `${folder}/ora/${key}-${FAILED_TABLE}-${spec.env}.sql.failed`;
      pending.push({ name, data: Buffer.from(FAILED_TRACEBACK, 'utf8'), info: { kind: 'export-failed', courseKey: key, table: FAILED_TABLE, ora: true } });
      failedMembers.push(`${name}${gpg}`);
    }
  });
  pending.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const members: DemoMemberInfo[] = [];
  const zipMembers: { name: string; data: Buffer; compress: boolean }[] = [];
  for (const p of pending) {
    const data = encryptTo ? Buffer.from(await encryptTo.encrypt(p.data)) : p.data;
    const name = `${p.name}${gpg}`;
    // Ciphertext does not deflate; Info-ZIP stores what it cannot shrink.
    zipMembers.push({ name, data, compress: !encrypted && p.info.kind !== 'olx' });
    members.push({ name, ...p.info, encrypted, bytes: data.length });
  }
  const weeklyKey = `course-data/${orgLc}-${packageDate}.zip`;
  const weeklyBytes = await writeZip(join(outDir, 'course-data', `${orgLc}-${packageDate}.zip`), [`${folder}/`, `${folder}/ora/`], zipMembers, mtime);

  // Email opt-in package.
  const optIn = buildEmailOptIn(roster, specs);
  const optInMember = `${org}-email_opt_in-prod-analytics.csv${gpg}`;
  const optInPlain = Buffer.from(optIn.text, 'utf8');
  const optInData = encryptTo ? Buffer.from(await encryptTo.encrypt(optInPlain)) : optInPlain;
  const optInKey = `course-data/email-opt-in/${orgLc}-${packageDate}.zip`;
  const optInBytes = await writeZip(join(outDir, ...optInKey.split('/')), [], [{ name: optInMember, data: optInData, compress: !encrypted }], mtime);

  // Daily event logs from the active learners of the edx.org courses.
  const eventCourses = specs.filter((s) => s.site === 'edx').map((s) => s.courseId);
  const activeCourses = new Map<number, string[]>();
  for (const e of roster.enrollments) {
    const user = roster.usersById.get(e.userId);
    if (!user || user.retired || user.isActive !== 1 || e.isActive !== 1 || !eventCourses.includes(e.courseId)) continue;
    const list = activeCourses.get(e.userId) ?? [];
    list.push(e.courseId);
    activeCourses.set(e.userId, list);
  }
  const eventUsers: EventLineUser[] = [...activeCourses.entries()].map(([id, list]) => ({ id, username: (roster.usersById.get(id) as { username: string }).username, courses: list }));

  const events: DemoEventDay[] = [];
  let corrupt: DemoManifest['corrupt'] | undefined;
  for (let i = 0; i < days; i++) {
    const date = isoDay(packageMs - (days - i) * DAY_MS);
    const key = `edx-course-data/${orgLc}/edx/events/${date.slice(0, 4)}/${orgLc}-edx-events-${date}.log.gz${gpg}`;
    const last = i === days - 1;
    const { day, originalBytes } = await writeEventDay({ outDir, key, date, seed: rng.fork(`events:${date}`).seed, eventsPerDay, courseIds: eventCourses, users: eventUsers, encryptTo, corrupt: last });
    events.push(day);
    if (last) corrupt = { key, how: encrypted ? 'ciphertext-truncated' : 'gzip-truncated', keptBytes: day.bytes, originalBytes };
  }

  return {
    org,
    packageDate,
    seed,
    encrypted,
    recipients: encryptTo?.armoredPublicKeys.length ?? 0,
    courses,
    weekly: { key: weeklyKey, folder, members, bytes: weeklyBytes },
    tables,
    forumDocuments,
    courseStructureBlocks,
    failedMembers,
    emailOptIn: { key: optInKey, member: optInMember, rows: optIn.rows, headerLines: optIn.headerLines, bytes: optInBytes },
    events,
    corrupt: corrupt as DemoManifest['corrupt'],
    totalUsers: roster.users.length,
    files: [weeklyKey, optInKey, ...events.map((e) => e.key)].sort(),
  };
}
