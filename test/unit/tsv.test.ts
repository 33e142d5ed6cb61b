import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readLines } from '../../core/formats/lines.js';
import { decodeTsvField, readTsv, type TsvHeader } from '../../core/formats/tsv.js';
import type { RejectedLine, TsvRow } from '../../core/domain/records.js';

async function* bytes(...chunks: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield Buffer.isBuffer(c) ? c : Buffer.from(c, 'utf8');
}

async function read(content: string | Buffer, batchLines?: number): Promise<{ header: TsvHeader; rows: TsvRow[]; rejected: RejectedLine[]; events: number }> {
  let header: TsvHeader | undefined;
  const rows: TsvRow[] = [];
  const rejected: RejectedLine[] = [];
  let events = 0;
  for await (const ev of readTsv(readLines(bytes(content), { batchLines }), { fileName: 'x-auth_user-prod-analytics.sql' })) {
    events++;
    if (ev.kind === 'header') {
      assert.equal(header, undefined, 'one header');
      header = ev;
    } else {
      assert.ok(header, 'header first');
      rows.push(...ev.rows);
      rejected.push(...ev.rejected);
    }
  }
  assert.ok(header);
  return { header, rows, rejected, events };
}

const T = '\t';

describe('decodeTsvField (§3 escapes)', () => {
  test('the four escapes, left to right', () => {
    assert.equal(decodeTsvField('a\\\\b'), 'a\\b');
    assert.equal(decodeTsvField('a\\tb'), 'a\tb');
    assert.equal(decodeTsvField('a\\nb'), 'a\nb');
    assert.equal(decodeTsvField('a\\rb'), 'a\rb');
    // `\\n` is an escaped backslash followed by n, not a newline.
    assert.equal(decodeTsvField('\\\\n'), '\\n');
    assert.equal(decodeTsvField('\\\\\\n'), '\\\n');
  });
  test('any other backslash sequence is kept literally', () => {
    assert.equal(decodeTsvField('C:\\x\\d'), 'C:\\x\\d');
    assert.equal(decodeTsvField('\\N'), '\\N');
    assert.equal(decodeTsvField('end\\'), 'end\\');
  });
  test('NULL is null; empty is the empty string; quotes are literal', () => {
    assert.equal(decodeTsvField('NULL'), null);
    assert.equal(decodeTsvField(''), '');
    assert.equal(decodeTsvField('"quoted" \'x\''), '"quoted" \'x\'');
    assert.equal(decodeTsvField('null'), 'null');
  });
});

describe('readTsv (§3, §7.12)', () => {
  test('header mapped by name, NULL vs empty, values as strings', async () => {
    const { header, rows } = await read(`hash_id${T}id${T}username\ne9989f2cca1d699d88e14fd43ccb5b5f${T}9999999${T}AAAAAAAA\nabc${T}NULL${T}\n`);
    assert.deepEqual(header, { kind: 'header', columns: ['hash_id', 'id', 'username'], empty: false, bytesRepr: false });
    assert.deepEqual(rows, [
      { line: 2, values: ['e9989f2cca1d699d88e14fd43ccb5b5f', '9999999', 'AAAAAAAA'] },
      { line: 3, values: ['abc', null, ''] },
    ]);
  });

  test('the studentmodule example of §3: JSON escapes survive, TSV escapes are undone', async () => {
    const header = ['id', 'module_type', 'module_id', 'student_id', 'state', 'grade', 'created', 'modified', 'max_grade', 'done', 'course_id'].join(T);
    // The DB holds JSON text with `\r\n\t` escapes (backslash + letter); the file doubles the backslashes.
    const state = '{"code": "print(\'hello world\')\\\\r\\\\n\\\\t"}';
    const line = ['33973858', 'course', 'i4x://edX/DemoX/course/Demo_course', '96452', state, 'NULL', '2013-03-19 17:21:07', '2014-01-07 20:18:54', 'NULL', 'na', 'edX/DemoX/Demo_course'].join(T);
    const { rows } = await read(`${header}\n${line}\n`);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].values[4], '{"code": "print(\'hello world\')\\r\\n\\t"}');
    assert.deepEqual(JSON.parse(rows[0].values[4] as string), { code: "print('hello world')\r\n\t" });
    assert.equal(rows[0].values[5], null);
    assert.equal(rows[0].values[10], 'edX/DemoX/Demo_course');
  });

  test('an escaped TAB, LF and CR inside a field', async () => {
    const { rows } = await read(`a${T}b\nx\\ty\\nz\\r${T}2\n`);
    assert.deepEqual(rows[0].values, ['x\ty\nz\r', '2']);
  });

  test('courseware_studentmodule: backslash + literal TAB is data, backslash + LF continues the record', async () => {
    const { rows, rejected } = await read(`id${T}state${T}done\n1${T}a\\${T}b${T}na\n2${T}first\\\nsecond${T}na\n3${T}x${T}na\n`);
    assert.deepEqual(rejected, []);
    assert.deepEqual(rows, [
      { line: 2, values: ['1', 'a\tb', 'na'] },
      { line: 3, values: ['2', 'first\nsecond', 'na'] },
      { line: 5, values: ['3', 'x', 'na'] },
    ]);
  });

  test('a record continued across batches keeps its first line number', async () => {
    const { rows } = await read(`id${T}v\n1${T}p\\\nq\\\nr\n2${T}s\n`, 2);
    assert.deepEqual(rows, [
      { line: 2, values: ['1', 'p\nq\nr'] },
      { line: 5, values: ['2', 's'] },
    ]);
  });

  test('a trailing backslash at end of file is literal', async () => {
    const { rows } = await read(`id${T}v\n1${T}end\\`);
    assert.deepEqual(rows, [{ line: 2, values: ['1', 'end\\'] }]);
  });

  test('optional microseconds are kept as written (typed later)', async () => {
    const { rows } = await read(`created\n2014-01-07 20:18:54\n2014-01-07 20:18:54.123456\n`);
    assert.deepEqual(rows.map((r) => r.values[0]), ['2014-01-07 20:18:54', '2014-01-07 20:18:54.123456']);
  });

  test('0-byte file: empty header, no rows', async () => {
    const { header, rows, rejected, events } = await read('');
    assert.deepEqual(header, { kind: 'header', columns: [], empty: true, bytesRepr: false });
    assert.equal(rows.length + rejected.length, 0);
    assert.equal(events, 1);
  });

  test('header-only file (empty result since Nov 2015)', async () => {
    const { header, rows, events } = await read(`id${T}user_id${T}course_id\n`);
    assert.deepEqual(header.columns, ['id', 'user_id', 'course_id']);
    assert.equal(header.empty, false);
    assert.equal(rows.length, 0);
    assert.equal(events, 1);
  });

  test('drifted and renamed headers are reported as written, rows aligned with them', async () => {
    // user_id_map renamed `id` → `user_id` (Oct 2022); auth_userprofile gained/lost columns.
    const oldMap = await read(`hash_id${T}id${T}username\nh${T}1${T}u\n`);
    const newMap = await read(`hash_id${T}user_id${T}username\nh${T}1${T}u\n`);
    assert.deepEqual(oldMap.header.columns, ['hash_id', 'id', 'username']);
    assert.deepEqual(newMap.header.columns, ['hash_id', 'user_id', 'username']);
    const profile = await read(`id${T}goals${T}allow_certificate${T}country\n1${T}g${T}1${T}AU\n`);
    assert.deepEqual(profile.header.columns, ['id', 'goals', 'allow_certificate', 'country']);
    assert.deepEqual(profile.rows[0].values, ['1', 'g', '1', 'AU']);
    const avatar = await read(` id ${T}avatar_typ\n1${T}\n`);
    assert.deepEqual(avatar.header.columns, ['id', 'avatar_typ']);
  });

  test('a BOM before the header is stripped', async () => {
    const { header } = await read(`\uFEFFid${T}name\n`);
    assert.deepEqual(header.columns, ['id', 'name']);
  });

  test('4-byte unicode survives, even split across chunks', async () => {
    const content = Buffer.from(`name${T}bio\n😀 𠜎${T}ok\n`, 'utf8');
    let header: TsvHeader | undefined;
    const rows: TsvRow[] = [];
    const split = content.indexOf(Buffer.from('😀')) + 2;
    for await (const ev of readTsv(readLines(bytes(content.subarray(0, split), content.subarray(split))), { fileName: 'f' })) {
      if (ev.kind === 'header') header = ev;
      else rows.push(...ev.rows);
    }
    assert.deepEqual(header?.columns, ['name', 'bio']);
    assert.deepEqual(rows[0].values, ['😀 𠜎', 'ok']);
  });

  test('a wrong field count is rejected with its line, later lines still load', async () => {
    const { rows, rejected } = await read(`a${T}b${T}c\n1${T}2\n1${T}2${T}3\n1${T}2${T}3${T}4\n`);
    assert.deepEqual(rows, [{ line: 3, values: ['1', '2', '3'] }]);
    assert.deepEqual(
      rejected.map((r) => ({ line: r.line, code: r.code, reason: r.reason })),
      [
        { line: 2, code: 'TSV_FIELD_COUNT', reason: 'expected 3 fields (header), found 2' },
        { line: 4, code: 'TSV_FIELD_COUNT', reason: 'expected 3 fields (header), found 4' },
      ],
    );
    assert.equal(Buffer.from(rejected[0].raw).toString('utf8'), `1${T}2`);
  });

  test('invalid UTF-8 is rejected (TSV_ENCODING) without stopping the file', async () => {
    const content = Buffer.concat([Buffer.from(`a${T}b\n1${T}`), Buffer.from([0xc3, 0x28]), Buffer.from(`\n2${T}ok\n`)]);
    const { rows, rejected } = await read(content);
    assert.deepEqual(rows, [{ line: 3, values: ['2', 'ok'] }]);
    assert.equal(rejected[0].code, 'TSV_ENCODING');
    assert.equal(rejected[0].line, 2);
    assert.deepEqual(Buffer.from(rejected[0].raw), Buffer.concat([Buffer.from(`1${T}`), Buffer.from([0xc3, 0x28])]));
  });

  test("b'…' window: header and rows written as Python bytes reprs", async () => {
    // The exporter escaped the value, then `.encode()`d it: the repr wraps the escaped text.
    const content = [
      ["b'id'", "b'name'", "b'state'"].join(T),
      ["b'1'", "b'caf\\xc3\\xa9 \\xf0\\x9f\\x98\\x80'", "b'{\"a\": \"x\\\\\\\\ty\"}'"].join(T),
      ["b'2'", 'NULL', "b'NULL'"].join(T),
      ["b'3'", 'b"it\'s"', "b''"].join(T),
    ].join('\n');
    const { header, rows, rejected } = await read(`${content}\n`);
    assert.equal(header.bytesRepr, true);
    assert.deepEqual(header.columns, ['id', 'name', 'state']);
    assert.deepEqual(rejected, []);
    assert.deepEqual(rows.map((r) => r.values), [
      ['1', 'café 😀', '{"a": "x\\ty"}'],
      ['2', null, null],
      ['3', "it's", ''],
    ]);
  });

  test("b'…' rows under a normal header are detected per row", async () => {
    const { header, rows } = await read(`id${T}name\nb'7'${T}b'x\\ny'\n8${T}b'not a repr row\n`);
    assert.equal(header.bytesRepr, false);
    assert.deepEqual(rows.map((r) => r.values), [
      ['7', 'x\ny'],
      ['8', "b'not a repr row"],
    ]);
  });

  test('CRLF files (re-saved by an editor) lose the CR', async () => {
    const { header, rows } = await read(`a${T}b\r\n1${T}2\r\n`);
    assert.deepEqual(header.columns, ['a', 'b']);
    assert.deepEqual(rows[0].values, ['1', '2']);
  });

});
