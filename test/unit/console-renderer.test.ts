/**
 * The console's own logic that needs no browser: the key-expiry warning (edX stops delivering to
 * an expired key, docs/edx-formats.md §2), the environment form's draft ↔ settings, the CSV line of
 * a report, the counts check and the formats the screens use. The screens themselves are tested
 * in Chromium (test/e2e/console.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expiry, groupFingerprint } from '../../renderer/keys/key-expiry.js';
import { draftFromSettings, EMPTY_DRAFT, secretFieldsFor, settingsFromDraft } from '../../renderer/environments/settings-draft.js';
import { CSV_COLUMNS, csvRow } from '../../renderer/report/csv-row.js';
import { countsAddUp } from '../../renderer/report/counts.js';
import { fileLabel, middle } from '../../renderer/report/file-label.js';
import { describeOptions } from '../../renderer/runs/describe-options.js';
import { bytes, duration, fileName, utcTime } from '../../renderer/common/format.js';
import type { FileResultView, RunSummaryData } from '../../core/contract/methods.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const key = (expires: string | null) => ({ keyId: 'ABCD', fingerprint: 'f'.repeat(40), userIds: ['Czar <czar@example.edu>'], algorithm: 'RSA', created: '2025-01-01T00:00:00Z', expires, protected: true });

test('a key expiring within 30 days, or expired, carries a warning; others do not', () => {
  assert.deepEqual(expiry(key(null), NOW), { tone: 'ok', label: 'never expires' });
  assert.deepEqual(expiry(key(new Date(NOW + 90 * DAY).toISOString()), NOW), { tone: 'ok', label: 'valid' });
  const soon = expiry(key(new Date(NOW + 10 * DAY).toISOString()), NOW);
  assert.equal(soon.tone, 'warn');
  assert.equal(soon.label, 'expires in 10 days');
  assert.match(soon.warning ?? '', /edX stops delivering/);
  const lastDay = expiry(key(new Date(NOW + 30 * DAY).toISOString()), NOW);
  assert.equal(lastDay.tone, 'warn', 'the 30th day still warns');
  const gone = expiry(key(new Date(NOW - DAY).toISOString()), NOW);
  assert.equal(gone.tone, 'bad');
  assert.match(gone.warning ?? '', /expired/);
  assert.equal(groupFingerprint('abcd1234ef'), 'ABCD 1234 EF');
});

test('the environment form keeps the settings it does not show and leaves out empty ones', () => {
  const settings = {
    description: 'Live',
    source: { type: 's3', org: 'MITx', region: 'us-east-1', sites: ['edx', 'edge'], weekly: { bucket: 'course-data', prefix: '' }, emailOptIn: { bucket: 'b', prefix: 'p/' } },
    courses: { include: ['MITx-6.00*'], includeEdge: false },
    timeouts: { connectSeconds: 5 },
    targets: { relational: { type: 'mariadb', host: 'db1', user: 'pds', database: 'edx', connectionLimit: 4 }, events: { type: 'sqlite' } },
  };
  const draft = draftFromSettings(settings);
  assert.equal(draft.org, 'MITx');
  assert.equal(draft.relationalType, 'mariadb');
  const back = settingsFromDraft({ ...draft, endpoint: '', dbPort: '3307' }, settings);
  assert.deepEqual(back.courses, settings.courses);
  assert.deepEqual(back.timeouts, settings.timeouts);
  const source = back.source as Record<string, unknown>;
  assert.deepEqual(source.sites, ['edx', 'edge'], 'settings the form does not show are kept');
  assert.deepEqual(source.emailOptIn, { bucket: 'b', prefix: 'p/' });
  assert.ok(!('endpoint' in source), 'an empty field is left out, so the default applies');
  assert.ok(!('events' in source), 'no events bucket: no events location');
  assert.deepEqual((back.targets as Record<string, unknown>).relational, { type: 'mariadb', host: 'db1', user: 'pds', database: 'edx', connectionLimit: 4, port: 3307 });
  assert.deepEqual(
    secretFieldsFor({ ...EMPTY_DRAFT, relationalType: 'mariadb', eventsType: 'mongodb' }).map((s) => s.field),
    ['source.accessKeyId', 'source.secretAccessKey', 'key.passphrase', 'targets.relational.password', 'targets.events.uri'],
  );
  assert.deepEqual(
    secretFieldsFor({ ...EMPTY_DRAFT, sourceType: 'local' }).map((s) => s.field),
    ['key.passphrase'],
  );
});

const run = { runId: 'r1', env: 'live', status: 'flagged', startedAt: '2026-06-01T02:00:00.000Z', finishedAt: null, totals: null, options: {}, error: null } as RunSummaryData;
const file = (over: Partial<FileResultView>): FileResultView => ({
  key: 'a.zip!b.sql.gpg',
  kind: 'weekly-table',
  status: 'partial',
  counts: { bytes: 10, read: 3, loaded: 2, rejected: 1, duplicates: 0 },
  warnings: [],
  durationMs: 5,
  ...over,
});

test('a report line in CSV quotes what needs quoting and keeps the run start in UTC', () => {
  const line = csvRow(run, file({ code: 'LINES_REJECTED', reason: '1 of 3 lines of "b.sql", a file, could not be loaded' }));
  assert.equal(line.split(',')[1], '2026-06-01T02:00:00.000Z');
  assert.match(line, /,"1 of 3 lines of ""b.sql"", a file, could not be loaded",$/);
  assert.equal(CSV_COLUMNS.length, 16);
});

test('read = loaded + rejected + already present, else the file is marked', () => {
  assert.equal(countsAddUp(file({})), true);
  assert.equal(countsAddUp(file({ counts: { bytes: 1, read: 5, loaded: 2, rejected: 1, duplicates: 1 } })), false);
  assert.equal(countsAddUp(file({ status: 'failed', counts: { bytes: 1, read: 5, loaded: 0, rejected: 0, duplicates: 0 } })), true, 'a failed file loaded nothing on purpose');
});

test('sizes, durations, UTC titles and file names read plainly', () => {
  assert.equal(bytes(998.61), '999 B');
  assert.equal(bytes(1536), '1.5 KB');
  assert.equal(duration(61_000), '1 min 1 s');
  assert.equal(utcTime('2026-06-01T02:00:00.123Z'), '2026-06-01 02:00:00 UTC');
  assert.equal(fileName('demox-2026-05-31.zip!DemoX-2026-05-31/DemoX-Old-1T-x.sql.gpg'), 'DemoX-Old-1T-x.sql.gpg');
  assert.equal(fileName('demox/edx/events/2026/demox-edx-events-2026-05-20.log.gz.gpg'), 'demox-edx-events-2026-05-20.log.gz.gpg');
});

test('a run is named by what it was asked: a retry by code names the code', () => {
  assert.equal(describeOptions({ retry: { keys: ['a.log.gz.gpg'], code: 'DECRYPT_NO_MATCHING_KEY' } }), 'retry of files flagged DECRYPT_NO_MATCHING_KEY');
  assert.equal(describeOptions({ retry: { keys: ['a.log.gz.gpg'] } }), 'retry one file');
  assert.equal(describeOptions({ retry: { keys: ['a', 'b'] } }), 'retry 2 files');
  assert.equal(describeOptions({ only: 'events', from: '2026-01-01', dryRun: true }), 'event logs, 2026-01-01 to …, dry run');
});

test('the File column names a package member by what differs, the course key being in its own column', () => {
  const course = 'DemoX-6.00.1-x-1T2026';
  const member = (table: string) => ({ key: `demox-2026-05-31.zip!DemoX-2026-05-31/${course}-${table}-prod-analytics.sql.gpg`, courseKey: course });
  const labels = ['auth_user', 'auth_userprofile', 'student_courseenrollment'].map((t) => fileLabel(member(t)));
  assert.deepEqual(labels, ['…auth_user-prod-analytics.sql.gpg', '…auth_userprofile-prod-analytics.sql.gpg', '…student_courseenrollment-prod-analytics.sql.gpg']);
  assert.equal(new Set(labels.map((l) => l.slice(0, 20))).size, 3, 'the visible starts differ');
  // Without a course, a long name is cut in the middle and keeps its end (an event log's date).
  const log = fileLabel({ key: 'demox/edx/events/2026/demox-edx-events-2026-05-20.log.gz.gpg' });
  assert.equal(log, 'demox-…2026-05-20.log.gz.gpg');
  assert.equal(log.length, 28);
  assert.equal(fileLabel({ key: 'demox-2026-05-31.zip' }), 'demox-2026-05-31.zip');
  // A name that only happens to start like the course is not cut there.
  assert.equal(fileLabel({ key: 'DemoX-6.00.1-x-1T2026X.sql', courseKey: course }), 'DemoX-6.00.1-x-1T2026X.sql');
  assert.equal(middle('abcdefghij', 5), 'a…hij');
});
