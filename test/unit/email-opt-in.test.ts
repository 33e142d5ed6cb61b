import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readEmailOptIn, type EmailOptInRow } from '../../core/formats/email-opt-in.js';
import type { RejectedLine } from '../../core/domain/records.js';
import { ParseError } from '../../core/errors/index.js';

async function* bytes(...chunks: string[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield Buffer.from(c, 'utf8');
}

async function readAll(...chunks: string[]): Promise<{ rows: EmailOptInRow[]; rejected: RejectedLine[]; skippedHeaders: number }> {
  const rows: EmailOptInRow[] = [];
  const rejected: RejectedLine[] = [];
  let skippedHeaders = 0;
  for await (const b of readEmailOptIn(bytes(...chunks), { fileName: 'delftx-email_opt_in-prod-analytics.csv', lines: { batchLines: 2 } })) {
    rows.push(...b.rows);
    rejected.push(...b.rejected);
    skippedHeaders += b.skippedHeaders;
  }
  return { rows, rejected, skippedHeaders };
}

const HEADER = 'user_id,username,email,full_name,course_id,is_opted_in_for_email,preference_set_datetime';
const OLD_HEADER = 'email,full_name,course_id,is_opted_in_for_email,preference_set_datetime';

describe('readEmailOptIn (§3, §7.15)', () => {
  test('CRLF rows, True/False → 1/0, tz-aware datetime normalised', async () => {
    const { rows, rejected } = await readAll(
      `${HEADER}\r\n`,
      '10,alice,alice@example.org,Alice A,course-v1:DelftX+EX101x+2T2018,True,2015-03-04 12:34:56+00:00\r\n',
      '11,bob,bob@example.org,Bob,DelftX/EX101x/2T2015,False,2014-12-01 00:00:00\r\n',
    );
    assert.deepEqual(rejected, []);
    assert.deepEqual(rows.map((r) => [r.line, r.values]), [
      [2, { user_id: 10, username: 'alice', email: 'alice@example.org', full_name: 'Alice A', course_id: 'course-v1:DelftX+EX101x+2T2018', is_opted_in_for_email: 1, preference_set_datetime: '2015-03-04 12:34:56' }],
      [3, { user_id: 11, username: 'bob', email: 'bob@example.org', full_name: 'Bob', course_id: 'DelftX/EX101x/2T2015', is_opted_in_for_email: 0, preference_set_datetime: '2014-12-01 00:00:00' }],
    ]);
    assert.equal(rows[1].raw.toString('utf8'), '11,bob,bob@example.org,Bob,DelftX/EX101x/2T2015,False,2014-12-01 00:00:00');
  });

  test('repeated header rows (one per chunk of courses) are skipped', async () => {
    const row = (n: number): string => `${n},u${n},u${n}@x.org,U ${n},c,True,2014-12-01 00:00:00\r\n`;
    const { rows, skippedHeaders } = await readAll(`${HEADER}\r\n`, row(1), `${HEADER}\r\n`, row(2), `${HEADER}\r\n`, row(3));
    assert.deepEqual(rows.map((r) => [r.line, r.values.user_id]), [
      [2, 1],
      [4, 2],
      [6, 3],
    ]);
    assert.equal(skippedHeaders, 2);
  });

  test('the pre-2017 header without user_id and username', async () => {
    const { rows } = await readAll(`${OLD_HEADER}\r\nx@y.org,X Y,MITx/6.002x/2012_Fall,True,2014-12-01 00:00:00\r\n`);
    assert.deepEqual(rows[0].values, {
      user_id: null,
      username: null,
      email: 'x@y.org',
      full_name: 'X Y',
      course_id: 'MITx/6.002x/2012_Fall',
      is_opted_in_for_email: 1,
      preference_set_datetime: '2014-12-01 00:00:00',
    });
  });

  test('minimal quoting: commas, doubled quotes and a line break inside a quoted name', async () => {
    const { rows, rejected } = await readAll(
      `\uFEFF${HEADER}\r\n`,
      '1,a,a@x.org,"Doe, Jane",c,True,2014-12-01 00:00:00\r\n',
      '2,b,b@x.org,"The ""Prof""",c,False,2014-12-01 00:00:00\r\n',
      '3,c,c@x.org,"Two\r\nLines 😀",c,True,2014-12-01 00:00:00\r\n',
      '4,d,d@x.org,D,c,True,2014-12-01 00:00:00\r\n',
    );
    assert.deepEqual(rejected, []);
    assert.deepEqual(rows.map((r) => [r.line, r.values.full_name]), [
      [2, 'Doe, Jane'],
      [3, 'The "Prof"'],
      [4, 'Two\nLines 😀'],
      [6, 'D'],
    ]);
  });

  test('wrong field counts and broken quotes are rejected with their line; reading goes on', async () => {
    const { rows, rejected } = await readAll(
      `${HEADER}\r\n`,
      '1,a,a@x.org,A,c,True\r\n',
      '2,b,b@x.org,"B"x,c,True,2014-12-01 00:00:00\r\n',
      '3,c,c@x.org,C,c,True,2014-12-01 00:00:00\r\n',
      '4,d,d@x.org,"unclosed,c,True,2014-12-01 00:00:00\r\n',
      '5,e,e@x.org,E,c,True,2014-12-01 00:00:00\r\n',
    );
    assert.deepEqual(rows.map((r) => r.line), [4, 6]);
    assert.deepEqual(rejected.map((r) => [r.line, r.code]), [
      [2, 'CSV_FIELD_COUNT'],
      [3, 'CSV_MALFORMED'],
      [5, 'CSV_MALFORMED'],
    ]);
    assert.equal(rejected[0].reason, 'expected 7 fields (header), found 6');
    for (const r of rejected) assert.ok(!r.reason.includes('@'), r.reason);
  });

  test('unreadable typed values are rejected by column, blanks are null', async () => {
    const { rows, rejected } = await readAll(
      `${HEADER}\r\n`,
      'x1,a,a@x.org,A,c,True,2014-12-01 00:00:00\r\n',
      '2,b,b@x.org,B,c,Maybe,2014-12-01 00:00:00\r\n',
      '3,c,c@x.org,C,c,True,last tuesday\r\n',
      ',d,d@x.org,D,c,,\r\n',
    );
    assert.deepEqual(rejected.map((r) => [r.line, r.code, r.reason]), [
      [2, 'CSV_VALUE_INVALID', 'column user_id: expected an integer'],
      [3, 'CSV_VALUE_INVALID', 'column is_opted_in_for_email: expected True or False'],
      [4, 'CSV_VALUE_INVALID', 'column preference_set_datetime: expected a datetime'],
    ]);
    assert.deepEqual(rows.map((r) => [r.line, r.values.user_id, r.values.is_opted_in_for_email, r.values.preference_set_datetime]), [[5, null, null, null]]);
  });

  test('a file that is not an opt-in CSV fails with a clear error', async () => {
    await assert.rejects(readAll('id\tname\n1\tx\n'), (error: unknown) => {
      assert.ok(error instanceof ParseError);
      assert.equal(error.code, 'EMAIL_OPT_IN_HEADER');
      assert.equal(error.line, 1);
      return true;
    });
  });

  test('empty and header-only files yield no rows', async () => {
    assert.deepEqual((await readAll('')).rows, []);
    assert.deepEqual((await readAll(`${HEADER}\r\n`)).rows, []);
  });
});
