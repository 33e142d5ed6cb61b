import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mapHeader } from '../../core/domain/drift.js';
import { getTableDef } from '../../core/domain/tables.js';

describe('mapHeader', () => {
  const enrollment = getTableDef('student_courseenrollment')!;

  test('a header equal to the definition maps one to one', () => {
    const header = ['id', 'user_id', 'course_id', 'created', 'is_active', 'mode'];
    assert.deepEqual(mapHeader(enrollment, header), { columns: header, unknown: [], missing: [], renamed: [], duplicates: [] });
  });

  test('columns are matched by name, not position (§3)', () => {
    const m = mapHeader(enrollment, ['mode', 'course_id', 'id', 'user_id', 'is_active', 'created']);
    assert.deepEqual(m.columns, ['mode', 'course_id', 'id', 'user_id', 'is_active', 'created']);
    assert.deepEqual(m.missing, []);
  });

  test('user_id_map: the pre-Oct 2022 header `id` is read as user_id (§4.6)', () => {
    const m = mapHeader(getTableDef('user_id_map')!, ['hash_id', 'id', 'username']);
    assert.deepEqual(m.columns, ['hash_id', 'user_id', 'username']);
    assert.deepEqual(m.renamed, [{ from: 'id', to: 'user_id' }]);
    assert.deepEqual(m.unknown, []);
    assert.deepEqual(mapHeader(getTableDef('user_id_map')!, ['hash_id', 'user_id', 'username']).renamed, []);
  });

  test('auth_user: the guide\'s `avatar_typ` is read as avatar_type (§4.1)', () => {
    const def = getTableDef('auth_user')!;
    const header = def.columns.map((c) => (c.name === 'avatar_type' ? 'avatar_typ' : c.name));
    const m = mapHeader(def, header);
    assert.deepEqual(m.columns, def.columns.map((c) => c.name));
    assert.deepEqual(m.renamed, [{ from: 'avatar_typ', to: 'avatar_type' }]);
  });

  test('auth_userprofile: old `allow_certificate`, newer `phone_number` and missing `state` (§4.2)', () => {
    const def = getTableDef('auth_userprofile')!;
    const header = def.columns.map((c) => c.name).filter((n) => n !== 'state' && n !== 'bio' && n !== 'goals');
    header.push('phone_number');
    const m = mapHeader(def, header);
    assert.deepEqual(m.unknown, ['phone_number']);
    // `state` and `bio` belong to some export eras only: their absence is normal, not drift.
    assert.deepEqual(m.missing, ['goals']);
    assert.equal(m.columns.length, header.length);
  });

  test('letter case is matched to the definition and reported', () => {
    const m = mapHeader(enrollment, ['ID', 'user_id', 'course_id', 'created', 'is_active', 'mode']);
    assert.equal(m.columns[0], 'id');
    assert.deepEqual(m.renamed, [{ from: 'ID', to: 'id' }]);
  });

  test('names the stores reserve are read as src_{name}; credit_crediteligibility course_key is its alias for course_id', () => {
    const m = mapHeader(enrollment, ['id', 'snapshot_date', 'load_id']);
    assert.deepEqual(m.columns, ['id', 'src_snapshot_date', 'src_load_id']);
    assert.deepEqual(m.unknown, ['src_snapshot_date', 'src_load_id']);
    const credit = mapHeader(getTableDef('credit_crediteligibility')!, ['id', 'created', 'modified', 'username', 'deadline', 'course_key']);
    assert.deepEqual(credit.columns, ['id', 'created', 'modified', 'username', 'deadline', 'course_id']);
    assert.deepEqual(credit.unknown, []);
  });

  test('empty and over-long names get usable names', () => {
    const long = 'x'.repeat(80);
    const m = mapHeader(enrollment, ['id', '', long]);
    assert.deepEqual(m.columns, ['id', 'column_2', 'x'.repeat(64)]);
  });

  test('repeated names are reported and kept apart so positions still align', () => {
    const m = mapHeader(enrollment, ['id', 'user_id', 'id', 'Id']);
    assert.deepEqual(m.duplicates, ['id']);
    assert.equal(new Set(m.columns.map((c) => c.toLowerCase())).size, 4);
    assert.equal(m.columns[0], 'id');
    assert.deepEqual(m.unknown, m.columns.slice(2));
  });
});
