import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRowCoercer, type CoerceResult } from '../../core/domain/coerce.js';
import type { ColumnDef, TableDef } from '../../core/domain/schema-types.js';
import { getTableDef } from '../../core/domain/tables.js';

function tableOf(...columns: ColumnDef[]): TableDef {
  return { name: 't', group: 'weekly', doc: '', columns };
}

/** Coerces one value in a one-column table of the given column. */
function one(column: ColumnDef, value: string | null): CoerceResult {
  return createRowCoercer(tableOf(column), [column.name])([value]);
}

function value(column: ColumnDef, text: string | null): unknown {
  const r = one(column, text);
  assert.ok(r.ok, `expected ${JSON.stringify(text)} to fit ${column.type}`);
  return r.row[0];
}

function rejected(column: ColumnDef, text: string): string {
  const r = one(column, text);
  assert.ok(!r.ok, `expected ${JSON.stringify(text)} to be refused as ${column.type}`);
  assert.equal(r.code, 'VALUE_INVALID');
  return r.reason;
}

describe('createRowCoercer', () => {
  const int: ColumnDef = { name: 'n', type: 'int' };
  const big: ColumnDef = { name: 'id', type: 'bigint' };
  const dbl: ColumnDef = { name: 'grade', type: 'double' };
  const bool: ColumnDef = { name: 'is_active', type: 'bool' };
  const vc: ColumnDef = { name: 'country', type: 'varchar', length: 2 };
  const text: ColumnDef = { name: 'value', type: 'text' };
  const dt: ColumnDef = { name: 'created', type: 'datetime' };
  const date: ColumnDef = { name: 'date_of_birth', type: 'date' };

  test('NULL stays null in every type; the empty string is a value', () => {
    for (const c of [int, big, dbl, bool, vc, text, dt, date]) assert.equal(value(c, null), null);
    assert.equal(value(vc, ''), '');
    assert.match(rejected(int, ''), /^column n: empty, expected an integer/);
  });

  test('int: integers in the 32-bit range only', () => {
    assert.equal(value(int, '0'), 0);
    assert.equal(value(int, '-2147483648'), -2147483648);
    assert.equal(value(int, '2147483647'), 2147483647);
    for (const bad of ['2147483648', '1.0', '1e3', ' 1', '0x10', 'abc', '+1']) rejected(int, bad);
  });

  test('bigint: exact beyond 2^53 as a decimal string, refused beyond 64 bits', () => {
    assert.equal(value(big, '9007199254740991'), 9007199254740991);
    assert.equal(value(big, '9007199254740993'), '9007199254740993');
    assert.equal(value(big, '-9223372036854775808'), '-9223372036854775808');
    rejected(big, '9223372036854775808');
    rejected(big, '12.5');
  });

  test('double: Python float reprs; no NaN or infinity', () => {
    assert.equal(value(dbl, '0.84'), 0.84);
    assert.equal(value(dbl, '1e-05'), 0.00001);
    assert.equal(value(dbl, '3'), 3);
    assert.equal(value(dbl, '-.5'), -0.5);
    for (const bad of ['nan', 'inf', '-inf', '1,5', '', '0x1']) rejected(dbl, bad);
    assert.equal(rejected(dbl, 'abc'), 'column grade: expected a number (double)');
  });

  test('bool: 0/1 and True/False (email opt-in CSV)', () => {
    assert.equal(value(bool, '0'), 0);
    assert.equal(value(bool, '1'), 1);
    assert.equal(value(bool, 'True'), 1);
    assert.equal(value(bool, 'False'), 0);
    rejected(bool, '2');
    rejected(bool, 'yes');
  });

  test('varchar: length counted in characters, as MariaDB does', () => {
    assert.equal(value(vc, 'US'), 'US');
    assert.equal(value(vc, '😀😀'), '😀😀'); // 4 UTF-16 units, 2 characters
    assert.equal(rejected(vc, 'USA'), 'column country: expected at most 2 characters (varchar(2))');
    rejected(vc, '😀😀😀');
  });

  test('text: at most 65,535 bytes of UTF-8; longtext and unknown columns take anything', () => {
    assert.equal(value(text, 'a'.repeat(65535)), 'a'.repeat(65535));
    rejected(text, 'a'.repeat(65536));
    rejected(text, 'é'.repeat(32768)); // 65,536 bytes in 32,768 characters
    const long = 'x'.repeat(100_000);
    assert.equal(value({ name: 'state', type: 'longtext' }, long), long);
    const r = createRowCoercer(tableOf(int), ['brand_new'])([long]);
    assert.deepEqual(r, { ok: true, row: [long] });
  });

  test('datetime: optional microseconds, T separator, Z or +00:00; normalised to UTC', () => {
    assert.equal(value(dt, '2013-03-19 17:21:07'), '2013-03-19 17:21:07');
    assert.equal(value(dt, '2014-05-16 18:52:20.302431'), '2014-05-16 18:52:20.302431');
    assert.equal(value(dt, '2014-05-16T18:52:20.302431+00:00'), '2014-05-16 18:52:20.302431');
    assert.equal(value(dt, '2015-03-04 12:34:56+00:00'), '2015-03-04 12:34:56');
    assert.equal(value(dt, '2015-03-04T12:34:56Z'), '2015-03-04 12:34:56');
    for (const bad of ['2013-02-30 00:00:00', '2013-03-19', 'yesterday', '2013-03-19 25:00:00']) rejected(dt, bad);
    assert.match(rejected(dt, 'yesterday'), /^column created: expected a datetime/);
  });

  test('date: a real calendar date', () => {
    assert.equal(value(date, '2024-02-29'), '2024-02-29');
    rejected(date, '2023-02-29');
    rejected(date, '2024-02-29 00:00:00');
  });

  test('a real auth_user row, in header order with an alias applied', () => {
    const def = getTableDef('auth_user')!;
    const columns = def.columns.map((c) => c.name);
    const values: (string | null)[] = [
      '9999999', 'AAAAAAAA', '', '', 'a@example.org', '', '0', '1', '0', 'NULL', '2013-03-19 17:21:07',
      '', null, '', '', '0', null, '', '', '0', '0', '0',
    ].map((v) => (v === 'NULL' ? null : v));
    const r = createRowCoercer(def, columns)(values);
    assert.ok(r.ok);
    assert.equal(r.row[0], 9999999);
    assert.equal(r.row[9], null);
    assert.equal(r.row[10], '2013-03-19 17:21:07');
  });

  test('reasons name the column and type, never the value; the first bad column is reported', () => {
    const def = tableOf(int, dbl);
    const r = createRowCoercer(def, ['n', 'grade'])(['12', 'secret@example.org']);
    assert.deepEqual(r, { ok: false, code: 'VALUE_INVALID', reason: 'column grade: expected a number (double)' });
  });

  test('a row of the wrong width is refused', () => {
    const r = createRowCoercer(tableOf(int), ['n'])(['1', '2']);
    assert.deepEqual(r, { ok: false, code: 'VALUE_INVALID', reason: 'row has 2 values for 1 columns' });
  });
});
