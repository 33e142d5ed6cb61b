/**
 * The demo delivery generator (core/demo): layout, exact formats, manifest counts, the corrupt
 * file, determinism, and the streaming event-line generator. Everything is read back with the
 * same tools a consumer would use (yauzl, zlib, JSON, EJSON, openpgp), never with the generator's
 * own helpers.
 */
import assert from 'node:assert/strict';
import { KNOWN_WEEKLY_TABLES } from '../../core/domain/file-names.js';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';

import { BSON } from 'mongodb';
import * as openpgp from 'openpgp';
import yauzl from 'yauzl';

import { generateDemoData, generateEventLines, type DemoManifest } from '../../core/demo/generate-package.js';
import { ConfigError } from '../../core/errors/index.js';

/** Reads every entry of a zip: file name → bytes (directories map to an empty buffer). */
function readZip(path: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true }, (openError, zip) => {
      if (openError || !zip) return reject(openError ?? new Error('zip did not open'));
      const out = new Map<string, Buffer>();
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) {
          out.set(entry.fileName, Buffer.alloc(0));
          zip.readEntry();
          return;
        }
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError ?? new Error('entry did not open'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/** JSON.parse with the two documented repairs (§7.2 syslog prefix, §7.3 invalid escapes); null when still broken. */
function parseEventLine(line: string): { value: Record<string, unknown>; repaired: boolean } | null {
  try {
    return { value: JSON.parse(line) as Record<string, unknown>, repaired: false };
  } catch {
    const match = /^.*?(\{.*\})\s*$/.exec(line);
    const body = (match ? match[1] : line).replace(/\\(.)/g, (all, c: string) => ('"\\/bfnrtu'.includes(c) ? all : `\\\\${c}`));
    try {
      return { value: JSON.parse(body) as Record<string, unknown>, repaired: true };
    } catch {
      return null;
    }
  }
}

const OPTIONS = { days: 3, eventsPerDay: 200, seed: 42 } as const;
// Every course table of the current export (verify_student_verificationstatus existed only 2015–2018).
const MAIN_TABLES = KNOWN_WEEKLY_TABLES.filter((t) => t !== 'verify_student_verificationstatus');
const ORA_TABLES = ['submissions_studentitem', 'submissions_submission', 'assessment_assessment'];

describe('generateDemoData (plain)', () => {
  let dir: string;
  let manifest: DemoManifest;
  let weekly: Map<string, Buffer>;

  const member = (courseKey: string, table: string, ora = false): string => {
    const course = manifest.courses.find((c) => c.courseKey === courseKey);
    assert.ok(course, `course ${courseKey}`);
    const name = `${manifest.weekly.folder}/${ora ? 'ora/' : ''}${courseKey}-${table}-${course.env}.sql`;
    const data = weekly.get(name);
    assert.ok(data, `member ${name}`);
    return data.toString('utf8');
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pds-demo-test-'));
    manifest = await generateDemoData({ outDir: join(dir, 'a'), ...OPTIONS });
    weekly = await readZip(join(dir, 'a', ...manifest.weekly.key.split('/')));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('writes the S3 layout of docs/edx-formats.md §1 with lower-cased org in object keys', () => {
    assert.equal(manifest.weekly.key, 'course-data/demox-2026-06-07.zip');
    assert.equal(manifest.emailOptIn.key, 'course-data/email-opt-in/demox-2026-06-07.zip');
    assert.deepEqual(
      manifest.events.map((e) => e.key),
      ['2026-06-04', '2026-06-05', '2026-06-06'].map((d) => `edx-course-data/demox/edx/events/2026/demox-edx-events-${d}.log.gz`),
    );
    for (const key of manifest.files) assert.ok(existsSync(join(dir, 'a', ...key.split('/'))), key);
    assert.equal(manifest.encrypted, false);
  });

  test('the weekly zip holds exactly the listed members under {org}-{date}/ and ora/', () => {
    const files = [...weekly.keys()].filter((n) => !n.endsWith('/')).sort();
    assert.deepEqual(files, manifest.weekly.members.map((m) => m.name).sort());
    assert.ok(weekly.has('DemoX-2026-06-07/'));
    assert.ok(weekly.has('DemoX-2026-06-07/ora/'));
    for (const name of files) assert.ok(name.startsWith('DemoX-2026-06-07/'), name);

    const keys = manifest.courses.map((c) => c.courseKey);
    assert.ok(keys.includes('DemoX-Data101-2T2026'));
    assert.ok(keys.includes('DemoX-Hist202-2014_Fall'));
    assert.ok(keys.includes('DemoX-6.00.1-x-1T2026'));
    assert.ok(manifest.courses.some((c) => c.courseId.startsWith('course-v1:')) && manifest.courses.some((c) => c.courseId === 'DemoX/Hist202/2014_Fall'));
    const edge = manifest.courses.find((c) => c.site === 'edge');
    assert.ok(edge && edge.env === 'prod-edge-analytics');
    assert.ok(weekly.has(`DemoX-2026-06-07/${edge.courseKey}-edge.mongo`));
    assert.ok(weekly.has('DemoX-2026-06-07/DemoX-Data101-2T2026-prod.mongo'));
    assert.ok(weekly.has('DemoX-2026-06-07/DemoX-Data101-2T2026-course_structure-prod-analytics.json'));
    assert.ok(weekly.has('DemoX-2026-06-07/DemoX-Data101-2T2026-course-prod-analytics.xml.tar.gz'));
    for (const table of MAIN_TABLES) assert.ok(manifest.tables[table] && Object.keys(manifest.tables[table]).length >= 3, table);
    for (const table of ORA_TABLES) {
      assert.ok(weekly.has(`DemoX-2026-06-07/ora/DemoX-Data101-2T2026-${table}-prod-analytics.sql`), table);
      assert.ok(manifest.tables[table]['DemoX-Data101-2T2026'] > 0, table);
    }
    // A course without activity has no studentmodule file at all (§1.3).
    assert.equal(weekly.has(`DemoX-2026-06-07/${edge.courseKey}-courseware_studentmodule-prod-edge-analytics.sql`), false);

    assert.equal(manifest.failedMembers.length, 1);
    const failed = weekly.get(manifest.failedMembers[0]);
    assert.ok(failed && manifest.failedMembers[0].endsWith('.sql.failed'));
    assert.match(failed.toString('utf8'), /^Traceback \(most recent call last\):/);
  });

  test('every TSV member is §3 TSV: header, TAB-separated, LF, no raw CR, counts as in the manifest', () => {
    let checked = 0;
    for (const m of manifest.weekly.members.filter((x) => x.kind === 'weekly-table')) {
      const text = weekly.get(m.name)?.toString('utf8') ?? '';
      assert.ok(text.endsWith('\n'), m.name);
      assert.equal(text.includes('\r'), false, `${m.name} has a raw CR`);
      const lines = text.slice(0, -1).split('\n');
      const width = lines[0].split('\t').length;
      assert.ok(width >= 3, m.name);
      for (const line of lines) assert.equal(line.split('\t').length, width, `${m.name}: ragged line`);
      assert.equal(lines.length - 1, m.records, m.name);
      assert.equal(manifest.tables[m.table ?? ''][m.courseKey], m.records);
      checked++;
    }
    assert.ok(checked >= 80);
    assert.equal(member('DemoX-Data101-2T2026', 'credit_crediteligibility'), 'id\tcreated\tmodified\tusername\tdeadline\tcourse_id\n');
  });

  test('TSV values: literal NULL, empty strings, escapes, both datetime forms, 4-byte unicode, retired users, header drift', () => {
    const users = member('DemoX-Data101-2T2026', 'auth_user');
    const [header, first] = users.split('\n');
    assert.equal(header.split('\t').length, 22);
    const row = first.split('\t');
    // status '' (empty string), email_key NULL, password always ''.
    assert.equal(row[header.split('\t').indexOf('status')], '');
    assert.equal(row[header.split('\t').indexOf('email_key')], 'NULL');
    assert.equal(row[header.split('\t').indexOf('password')], '');

    const all = manifest.weekly.members.filter((m) => m.kind === 'weekly-table').map((m) => weekly.get(m.name)?.toString('utf8') ?? '').join('');
    assert.match(all, /\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}(\t|\n)/);
    assert.match(all, /\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\t|\n)/);
    assert.match(all, /😀/u);
    assert.match(all, /𠮷/u);
    assert.match(all, /\tretired__user_[0-9a-f]{40}\t/);
    // §3 escapes: TAB, LF, CR and backslash inside fields.
    assert.ok(all.includes('Learn R\\tand Python\\nfor my thesis'));
    assert.ok(all.includes('12 rue de Paris\\r\\n91400 Orsay'));
    assert.ok(all.includes('I typeset with \\\\LaTeX'));
    // JSON text columns: their own escapes get doubled backslashes (§3 escaping example).
    assert.ok(member('DemoX-Data101-2T2026', 'courseware_studentmodule').includes(`"print('hello world')\\\\r\\\\n\\\\t"`));
    assert.ok(member('DemoX-Data101-2T2026', 'submissions_submission', true).includes('{"parts": [{"text": "My first draft.\\\\nIt has two lines, a \\\\"quoted\\\\" word'));

    // Drift: allow_certificate in the old-style profile dump; the two user_id_map headers (§4.2, §4.6).
    assert.ok(member('DemoX-Hist202-2014_Fall', 'auth_userprofile').split('\n')[0].split('\t').includes('allow_certificate'));
    assert.equal(member('DemoX-Data101-2T2026', 'auth_userprofile').split('\n')[0].split('\t').includes('allow_certificate'), false);
    assert.equal(member('DemoX-Data101-2T2026', 'user_id_map').split('\n')[0], 'hash_id\tuser_id\tusername');
    assert.equal(member('DemoX-Hist202-2014_Fall', 'user_id_map').split('\n')[0], 'hash_id\tid\tusername');

    const enrollments = member('DemoX-Data101-2T2026', 'student_courseenrollment').trim().split('\n').slice(1).map((l) => l.split('\t'));
    assert.ok(enrollments.some((r) => r[4] === '0') && enrollments.some((r) => r[4] === '1'));
    assert.ok(new Set(enrollments.map((r) => r[5])).size >= 3);
  });

  test('ids agree across tables: enrollments ↔ auth_user ↔ profile, ORA identities are course anonymous ids', () => {
    const rows = (courseKey: string, table: string, ora = false): string[][] =>
      member(courseKey, table, ora).trim().split('\n').slice(1).map((l) => l.split('\t'));
    for (const c of manifest.courses) {
      const enrolled = new Set(rows(c.courseKey, 'student_courseenrollment').map((r) => r[1]));
      assert.deepEqual(new Set(rows(c.courseKey, 'auth_user').map((r) => r[0])), enrolled, c.courseKey);
      assert.deepEqual(new Set(rows(c.courseKey, 'auth_userprofile').map((r) => r[1])), enrolled, c.courseKey);
      assert.equal(c.enrollments, enrolled.size);
      const anonymous = new Set(rows(c.courseKey, 'student_anonymoususerid').map((r) => r[2]));
      for (const r of rows(c.courseKey, 'submissions_studentitem', true)) assert.ok(anonymous.has(r[1]), `${c.courseKey} ORA student_id`);
    }
    const ids = new Set(manifest.courses.flatMap((c) => rows(c.courseKey, 'auth_user').map((r) => r[0])));
    assert.equal(manifest.totalUsers, ids.size);
  });

  test('course structure, forum (extended JSON) and OLX tarball are real files', () => {
    for (const c of manifest.courses) {
      const structure = JSON.parse(weekly.get(`DemoX-2026-06-07/${c.courseKey}-course_structure-${c.env}.json`)?.toString('utf8') ?? '') as Record<string, { category: string }>;
      assert.equal(Object.keys(structure).length, manifest.courseStructureBlocks[c.courseKey]);
      assert.equal(Object.values(structure).filter((b) => b.category === 'course').length, 1);
    }
    const forum = weekly.get('DemoX-2026-06-07/DemoX-6.00.1-x-1T2026-prod.mongo')?.toString('utf8') ?? '';
    const lines = forum.trim().split('\n');
    assert.equal(lines.length, manifest.forumDocuments['DemoX-6.00.1-x-1T2026']);
    assert.match(forum, /"\$date":\d{13}/);
    assert.match(forum, /"\$date":"\d{4}-\d\d-\d\dT[\d:.]+Z"/);
    assert.match(forum, /"\$oid":"[0-9a-f]{24}"/);
    for (const line of lines) {
      const doc = BSON.EJSON.parse(line) as { created_at: unknown; author_id: unknown; _type: string };
      assert.ok(doc.created_at instanceof Date);
      assert.equal(typeof doc.author_id, 'string');
      assert.ok(['CommentThread', 'Comment'].includes(doc._type));
    }
    const tar = gunzipSync(weekly.get('DemoX-2026-06-07/DemoX-Data101-2T2026-course-prod-analytics.xml.tar.gz') ?? Buffer.alloc(0));
    assert.equal(tar.length % 512, 0);
    assert.equal(tar.subarray(257, 262).toString('latin1'), 'ustar');
    const names: string[] = [];
    for (let offset = 0; offset + 512 <= tar.length; ) {
      const name = tar.subarray(offset, offset + 100).toString('utf8').replace(/\0.*$/s, '');
      if (name === '') break;
      names.push(name);
      const size = parseInt(tar.subarray(offset + 124, offset + 136).toString('latin1').replace(/\0.*$/s, ''), 8);
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    assert.ok(names.includes('course/course.xml'));
    assert.ok(names.some((n) => n.startsWith('course/problem/')));
  });

  test('email opt-in CSV: CRLF, header repeated mid-file, True/False', async () => {
    const zip = await readZip(join(dir, 'a', ...manifest.emailOptIn.key.split('/')));
    assert.deepEqual([...zip.keys()], ['DemoX-email_opt_in-prod-analytics.csv']);
    const text = zip.get('DemoX-email_opt_in-prod-analytics.csv')?.toString('utf8') ?? '';
    assert.ok(text.endsWith('\r\n'));
    const lines = text.slice(0, -2).split('\r\n');
    assert.equal(lines.some((l) => l.includes('\n')), false);
    const header = 'user_id,username,email,full_name,course_id,is_opted_in_for_email,preference_set_datetime';
    assert.equal(lines[0], header);
    const headerAt = lines.flatMap((l, i) => (l === header ? [i] : []));
    assert.equal(headerAt.length, manifest.emailOptIn.headerLines);
    assert.ok(headerAt.length >= 2 && headerAt[1] > 1);
    assert.equal(lines.length - headerAt.length, manifest.emailOptIn.rows);
    assert.ok(text.includes(',True,') && text.includes(',False,'));
    assert.ok(text.includes('"Smith, Jane ""JJ"""'));
  });

  test('event logs gunzip to the manifest counts and carry the §5/§7 shapes and quirks', async () => {
    const good = manifest.events.filter((e) => !e.corrupt);
    assert.equal(good.length, OPTIONS.days - 1);
    for (const day of good) {
      const text = gunzipSync(await readFile(join(dir, 'a', ...day.key.split('/')))).toString('utf8');
      assert.ok(text.endsWith('\n'));
      const lines = text.slice(0, -1).split('\n');
      assert.equal(lines.length, day.lines);
      let bad = 0;
      let repaired = 0;
      let late = 0;
      const distinct = new Set<string>();
      const sources = new Set<unknown>();
      const names = new Set<unknown>();
      for (const line of lines) {
        const parsed = parseEventLine(line);
        if (!parsed) {
          bad++;
          continue;
        }
        if (parsed.repaired) repaired++;
        distinct.add(line);
        sources.add(parsed.value.event_source);
        names.add(parsed.value.name ?? parsed.value.event_type);
        // Within the day, except the mobile event recorded offline two days before it was received (§7.8).
        const time = String(parsed.value.time);
        const ms = Date.parse(/[+Z]/.test(time.slice(19)) ? time : `${time}Z`);
        const dayMs = Date.parse(`${day.date}T00:00:00Z`);
        assert.ok(ms >= dayMs - 3 * 86_400_000 && ms < dayMs + 86_400_000, time);
        if (ms < dayMs) late++;
      }
      assert.equal(late, day.quirks.mobileLate, day.date);
      assert.equal(bad, day.badLines, day.date);
      assert.equal(repaired, day.repairedLines, day.date);
      assert.equal(distinct.size, day.goodEvents, day.date);
      assert.equal(day.lines, day.goodEvents + day.badLines + day.quirks.duplicate);
      assert.deepEqual([...sources].sort(), ['browser', 'mobile', 'server']);
      for (const n of ['problem_check', 'problem_graded', 'page_close', 'edx.ui.lms.sequence.tab_selected', 'edx.course.enrollment.activated', 'edx.certificate.created']) assert.ok(names.has(n), n);
      assert.ok(text.includes('"username": "bob\\n"'));
      assert.ok(text.includes('"user_id": ""'));
      assert.ok(text.includes('"course_id": null'));
      assert.ok(text.includes('\u200b'));
      assert.ok(/"time": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"/.test(text));
      assert.ok(text.includes('"xblock.partition_service.partition_0": "1"'));
      // The implicit-event POST dump is cut at 512 characters (§5.3).
      const posts = lines.map(parseEventLine).filter((p) => p && typeof p.value.event === 'string' && (p.value.event as string).startsWith('{"POST"'));
      assert.ok(posts.some((p) => (p?.value.event as string).length === 512));
    }
  });

  test('the last day is the one corrupt file: its gzip is truncated', async () => {
    const last = manifest.events[manifest.events.length - 1];
    assert.equal(last.corrupt, true);
    assert.equal(manifest.corrupt.key, last.key);
    assert.equal(manifest.corrupt.how, 'gzip-truncated');
    const bytes = await readFile(join(dir, 'a', ...last.key.split('/')));
    assert.equal(bytes.length, manifest.corrupt.keptBytes);
    assert.ok(manifest.corrupt.keptBytes < manifest.corrupt.originalBytes);
    assert.throws(() => gunzipSync(bytes), /unexpected end of file/);
  });

  test('the same seed gives identical bytes; another seed does not', async () => {
    const again = await generateDemoData({ outDir: join(dir, 'b'), ...OPTIONS });
    assert.deepEqual(again, manifest);
    const zipAgain = await readZip(join(dir, 'b', ...again.weekly.key.split('/')));
    const name = 'DemoX-2026-06-07/DemoX-Data101-2T2026-auth_userprofile-prod-analytics.sql';
    assert.ok(zipAgain.get(name)?.equals(weekly.get(name) ?? Buffer.alloc(0)));
    const log = manifest.events[0].key;
    assert.ok((await readFile(join(dir, 'b', ...log.split('/')))).equals(await readFile(join(dir, 'a', ...log.split('/')))));

    const other = await generateDemoData({ outDir: join(dir, 'c'), ...OPTIONS, seed: 43 });
    const zipOther = await readZip(join(dir, 'c', ...other.weekly.key.split('/')));
    assert.equal(zipOther.get(name)?.equals(weekly.get(name) ?? Buffer.alloc(0)), false);
  });
});

describe('generateDemoData (encrypted)', () => {
  test('encrypts every member and log on its own; plaintext equals the plain run; the corrupt file fails to decrypt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pds-demo-enc-'));
    try {
      const { privateKey, publicKey } = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ email: 'czar@example.edu' }], format: 'object' });
      const encrypt = async (plain: Uint8Array): Promise<Uint8Array> =>
        (await openpgp.encrypt({ message: await openpgp.createMessage({ binary: plain }), encryptionKeys: publicKey, format: 'binary' })) as Uint8Array;
      const decrypt = async (bytes: Uint8Array): Promise<Buffer> =>
        Buffer.from((await openpgp.decrypt({ message: await openpgp.readMessage({ binaryMessage: bytes }), decryptionKeys: privateKey, format: 'binary' })).data as Uint8Array);
      const options = { days: 2, eventsPerDay: 20, seed: 7 };
      const plain = await generateDemoData({ outDir: join(dir, 'plain'), ...options });
      const enc = await generateDemoData({ outDir: join(dir, 'enc'), ...options, encryptTo: { armoredPublicKeys: [publicKey.armor()], encrypt } });

      assert.equal(enc.encrypted, true);
      assert.equal(enc.recipients, 1);
      assert.equal(enc.weekly.key, plain.weekly.key);
      assert.deepEqual(enc.tables, plain.tables);
      assert.deepEqual(
        enc.weekly.members.map((m) => m.name),
        plain.weekly.members.map((m) => `${m.name}.gpg`),
      );
      assert.equal(enc.emailOptIn.member, 'DemoX-email_opt_in-prod-analytics.csv.gpg');
      for (const e of enc.events) assert.ok(e.key.endsWith('.log.gz.gpg'));

      const encZip = await readZip(join(dir, 'enc', ...enc.weekly.key.split('/')));
      const plainZip = await readZip(join(dir, 'plain', ...plain.weekly.key.split('/')));
      const name = 'DemoX-2026-06-07/DemoX-Hist202-2014_Fall-auth_userprofile-prod-analytics.sql';
      assert.ok((await decrypt(encZip.get(`${name}.gpg`) ?? Buffer.alloc(0))).equals(plainZip.get(name) ?? Buffer.alloc(0)));

      // gzip first, then encrypt (§2): decrypting gives a gzip stream of the same lines.
      const firstDay = await decrypt(await readFile(join(dir, 'enc', ...enc.events[0].key.split('/'))));
      assert.equal(gunzipSync(firstDay).toString('utf8').split('\n').length - 1, enc.events[0].lines);

      assert.equal(enc.corrupt.how, 'ciphertext-truncated');
      await assert.rejects(decrypt(await readFile(join(dir, 'enc', ...enc.corrupt.key.split('/')))));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('generateDemoData options', () => {
  test('rejects an org that would make file names ambiguous, and a bad date', async () => {
    await assert.rejects(generateDemoData({ outDir: join(tmpdir(), 'never-written'), org: 'Demo-X' }), ConfigError);
    await assert.rejects(generateDemoData({ outDir: join(tmpdir(), 'never-written'), packageDate: '2026-02-30' }), ConfigError);
  });
});

describe('generateEventLines', () => {
  test('streams the requested number of distinct, valid, unsorted lines of about 1.5 KB within the day', () => {
    const users = Array.from({ length: 40 }, (_, i) => ({ id: 5000 + i, username: `learner${i}` }));
    const courseIds = ['course-v1:BenchX+Perf1+2026', 'BenchX/Old101/2013_Spring'];
    const lines = [...generateEventLines({ count: 3001, seed: 5, date: '2026-01-05', courseIds, users })];
    assert.equal(lines.length, 3001);
    assert.equal(new Set(lines).size, lines.length);
    const times: string[] = [];
    let bytes = 0;
    for (const line of lines) {
      bytes += Buffer.byteLength(line);
      assert.equal(line.includes('\n'), false);
      const event = JSON.parse(line) as { time: string; username: string; context: { course_id: string | null } };
      assert.ok(event.time.startsWith('2026-01-05T'));
      assert.ok(users.some((u) => u.username === event.username));
      times.push(event.time);
    }
    assert.notDeepEqual(times, [...times].sort());
    const average = bytes / lines.length;
    assert.ok(average > 1100 && average < 2000, `average ${average}`);
    const small = (seed: number): string[] => [...generateEventLines({ count: 50, seed, date: '2026-01-05', courseIds, users })];
    assert.deepEqual(small(5), small(5));
    assert.notDeepEqual(small(5), small(6));
  });
});
