/**
 * The reports' SQL pieces that need no server: SQLite's day and week-start expressions against a
 * calendar computed here, and how a course name is matched (exact, ignoring case, ambiguous,
 * unknown with close matches).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { ConfigError } from '../../core/errors/index.js';
import { courseKeyOf, matchCourse } from '../../core/reports/course-lookup.js';
import { dialectOf } from '../../core/reports/report-sql.js';
import { activitySql } from '../../core/reports/activity-report.js';
import { programSql } from '../../core/reports/program-report.js';
import type { ReportQueries } from '../../core/stores/ports.js';
import { SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';
import { temporarySqliteFiles } from '../support/sqlite-files.js';

const { newPath } = temporarySqliteFiles('pds-report-sql-');

describe('report SQL', () => {
  test('SQLite: the week of a datetime starts on the Monday on or before its day, over two years', () => {
    const d = dialectOf({ dialect: 'sqlite' } as ReportQueries);
    const db = new Database(':memory:');
    const stmt = db.prepare(`SELECT ${d.day('@t')} AS day, ${d.weekStart('@t')} AS week`);
    for (let t = Date.UTC(2023, 11, 25); t < Date.UTC(2026, 0, 10); t += 86_400_000) {
      const day = new Date(t).toISOString().slice(0, 10);
      const monday = new Date(t - ((new Date(t).getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
      for (const time of [`${day} 00:00:00`, `${day} 23:59:59.999999`]) assert.deepEqual(stmt.get({ t: time }), { day, week: monday }, time);
    }
    db.close();
  });

  test('SQLite: every part of the activity report and the program report reads through an index, never a whole table', async () => {
    const path = newPath();
    const store = new SqliteStore({ path });
    await store.init();
    await store.close();
    const db = new Database(path, { readonly: true });
    const q = { dialect: 'sqlite' } as ReportQueries;
    const parts = [...Object.values(activitySql(q, 'week')), ...Object.values(activitySql(q, 'day')), ...Object.values(programSql(8, 2))];
    for (const sql of parts) {
      const n = (sql.match(/\?/g) ?? []).length;
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array.from({ length: n }, () => 'x')) as { detail: string }[]).map((r) => r.detail);
      assert.ok(plan.some((d) => /^SEARCH .* USING (COVERING )?INDEX/.test(d)), `${sql}\n${plan.join('\n')}`);
      assert.ok(!plan.some((d) => /^SCAN (?!a\b)/.test(d)), `a whole table is read:\n${sql}\n${plan.join('\n')}`);
    }
    db.close();
  });

  test('course keys of course ids', () => {
    assert.equal(courseKeyOf('course-v1:MITx+6.00.1x+1T2026'), 'MITx-6.00.1x-1T2026');
    assert.equal(courseKeyOf('MITx/6.002x/2012_Fall'), 'MITx-6.002x-2012_Fall');
  });

  test('a course is matched by id or key, then ignoring case; else ambiguous or unknown with close matches', () => {
    const courses = [
      { courseId: 'course-v1:UniX+Prob101+1T2025', courseKey: 'UniX-Prob101-1T2025' },
      { courseId: 'course-v1:UniX+Prob101+3T2025', courseKey: 'UniX-Prob101-3T2025' },
      { courseId: 'UniX/Stat201/2014', courseKey: 'UniX-Stat201-2014' },
    ];
    assert.equal(matchCourse(courses, 'UniX/Stat201/2014').courseKey, 'UniX-Stat201-2014');
    assert.equal(matchCourse(courses, ' unix-prob101-3t2025 ').courseId, 'course-v1:UniX+Prob101+3T2025');
    const fails = (name: string, code: string, text: RegExp) =>
      assert.throws(() => matchCourse(courses, name), (e: unknown) => e instanceof ConfigError && e.code === code && text.test(e.message));
    fails('Prob101', 'COURSE_AMBIGUOUS', /more than one course: UniX-Prob101-1T2025 .*, UniX-Prob101-3T2025/);
    fails('UniX-Prob101-2T2025', 'COURSE_UNKNOWN', /Close matches: UniX-Prob101-1T2025/);
    fails('Stat201', 'COURSE_UNKNOWN', /Close matches: UniX-Stat201-2014 \(UniX\/Stat201\/2014\)/);
    fails('Completely different', 'COURSE_UNKNOWN', /^No course "Completely different" in the loaded data\.$/);
    assert.throws(() => matchCourse([], 'x'), /no course has been loaded yet/);
  });
});
