/**
 * The logical schema is consistent, covers every documented table, and `docs/schema.md` matches it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { SCHEMA_DOC_PATH, renderSchemaDoc } from '../../build/gen-schema-doc.js';
import { RESERVED_COLUMNS } from '../../core/domain/drift.js';
import { COLUMN_TYPES } from '../../core/domain/schema-types.js';
import { DESIGNATED_TABLES, EVENT_TABLES, SUMMARY_VIEWS, TABLES_BY_NAME, WEEKLY_TABLES, getTableDef, isSnapshotTable, textTableDef } from '../../core/domain/tables.js';

const ALL = [...WEEKLY_TABLES, ...EVENT_TABLES, ...SUMMARY_VIEWS];

describe('table definitions', () => {
  test('every weekly table of docs/edx-formats.md §4.1–4.7, the forum, course blocks and email opt-in are defined', () => {
    const expected = [
      'auth_user', 'auth_userprofile', 'student_courseenrollment', 'certificates_generatedcertificate', 'courseware_studentmodule',
      'user_id_map', 'student_anonymoususerid', 'student_languageproficiency', 'student_courseaccessrole',
      'django_comment_client_role_users', 'user_api_usercoursetag', 'teams', 'teams_membership', 'grades_persistentcoursegrade',
      'grades_persistentsubsectiongrade', 'credit_crediteligibility', 'course_groups_cohortmembership',
      'verify_student_verificationstatus', 'wiki_article', 'wiki_articlerevision', 'forum_contents', 'course_blocks', 'email_opt_in',
    ];
    for (const name of expected) assert.equal(getTableDef(name)?.group, 'weekly', name);
    assert.equal(WEEKLY_TABLES.filter((t) => t.group === 'ora').length, 21);
    assert.equal(getTableDef('auth_user')!.columns.length, 22);
  });

  test('names are unique, columns are well formed, indexes and aliases point at real columns', () => {
    assert.equal(new Set(ALL.map((t) => t.name)).size, ALL.length);
    for (const def of ALL) {
      const names = def.columns.map((c) => c.name.toLowerCase());
      assert.equal(new Set(names).size, names.length, `${def.name}: duplicate column`);
      assert.ok(def.doc.length > 0, `${def.name}: doc`);
      for (const c of def.columns) {
        assert.ok(COLUMN_TYPES.includes(c.type), `${def.name}.${c.name}: type`);
        if (c.type === 'varchar') assert.ok(c.length && c.length > 0 && c.length <= 16383, `${def.name}.${c.name}: length`);
        assert.ok(/^[a-z_][a-z0-9_]*$/.test(c.name), `${def.name}.${c.name}: plain name`);
        if (isSnapshotTable(def)) assert.ok(!RESERVED_COLUMNS.includes(c.name), `${def.name}.${c.name}: reserved`);
      }
      for (const index of def.indexes ?? []) {
        for (const name of index) {
          const c = def.columns.find((x) => x.name === name);
          assert.ok(c, `${def.name}: index column ${name}`);
          // MariaDB cannot index TEXT/LONGTEXT without a prefix length.
          assert.ok(c.type !== 'text' && c.type !== 'longtext', `${def.name}: index on ${c.type} column ${name}`);
        }
      }
      for (const [from, to] of Object.entries(def.aliases ?? {})) {
        assert.ok(names.includes(to), `${def.name}: alias ${from} → ${to}`);
        assert.ok(!names.includes(from.toLowerCase()), `${def.name}: alias ${from} shadows a column`);
      }
    }
  });

  test('event tables are keyed by event_id; designated tables exist; views are not loadable tables', () => {
    for (const def of EVENT_TABLES) {
      assert.deepEqual(def.primaryKey, ['event_id'], def.name);
      assert.equal(def.columns[0].name, 'event_id');
      assert.equal(def.group, 'events');
    }
    for (const name of DESIGNATED_TABLES) assert.ok(getTableDef(name), name);
    for (const view of SUMMARY_VIEWS) assert.equal(TABLES_BY_NAME.has(view.name), false);
    assert.equal(getTableDef('events')!.columns.find((c) => c.name === 'event_type')!.type, 'text', '§7.6');
  });

  test('every table fits MariaDB\'s 65,535-byte row limit for VARCHAR columns (utf8mb4: 4 bytes a character)', () => {
    for (const def of ALL) {
      const chars = def.columns.reduce((n, c) => n + (c.type === 'varchar' ? (c.length ?? 255) : 0), isSnapshotTable(def) ? 255 + 64 : 0);
      assert.ok(chars * 4 < 65535, `${def.name}: ${chars} varchar characters`);
    }
  });

  test('the documented header quirks are aliases', () => {
    assert.deepEqual(getTableDef('user_id_map')!.aliases, { id: 'user_id' });
    assert.deepEqual(getTableDef('auth_user')!.aliases, { avatar_typ: 'avatar_type' });
  });

  test('textTableDef makes every column longtext', () => {
    const def = textTableDef('new_table', ['a', 'b']);
    assert.deepEqual(def.columns, [{ name: 'a', type: 'longtext' }, { name: 'b', type: 'longtext' }]);
    assert.ok(isSnapshotTable(def));
  });
});

describe('docs/schema.md', () => {
  test('is up to date with the definitions (regenerate with `node --import tsx build/gen-schema-doc.ts`)', () => {
    const committed = readFileSync(SCHEMA_DOC_PATH, 'utf8');
    assert.ok(committed === renderSchemaDoc(), 'docs/schema.md is out of date: run `node --import tsx build/gen-schema-doc.ts` and commit the result');
  });

  test('documents every table and every column', () => {
    const doc = renderSchemaDoc();
    for (const def of ALL) {
      assert.ok(doc.includes(`### ${def.name}\n`), def.name);
      for (const c of def.columns) assert.ok(doc.includes(`| \`${c.name}\` |`), `${def.name}.${c.name}`);
    }
  });
});
