/**
 * The personal-data inventory classifies every column of every table and view, and
 * docs/data-protection.md (the default configuration) matches it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LEARNER_KEY_COLUMNS, LEARNER_KEY_COLUMN_NAMES, NOT_LEARNER_KEYS, PERSONAL_CLASSES, classifiedTables, duplicateClassifications, personalClassOf } from '../../core/domain/personal-data.js';
import { SNAPSHOT_COLUMNS } from '../../core/domain/schema-types.js';
import { DERIVED_TABLES, EVENT_TABLES, SUMMARY_VIEWS, WEEKLY_TABLES } from '../../core/domain/tables.js';
import { defaultEnvironmentConfig, renderDataProtectionDoc, renderDefaultDataProtectionDoc } from '../../core/privacy/inventory-doc.js';

const ALL = [...WEEKLY_TABLES, ...EVENT_TABLES, ...DERIVED_TABLES, ...SUMMARY_VIEWS];
const DOC = fileURLToPath(new URL('../../docs/data-protection.md', import.meta.url));

describe('personal-data inventory', () => {
  test('every column of every table and view has a class', () => {
    const missing = ALL.flatMap((t) => t.columns.filter((c) => c.personal === undefined || !PERSONAL_CLASSES.includes(c.personal)).map((c) => `${t.name}.${c.name}`));
    assert.deepEqual(missing, [], `classify these columns in core/domain/personal-data.ts: ${missing.join(', ')}`);
    for (const c of SNAPSHOT_COLUMNS) assert.equal(personalClassOf('auth_user', c.name), 'not-personal');
  });

  test('the inventory names no table or column that does not exist, and none twice', () => {
    const names = new Set(ALL.map((t) => t.name));
    assert.deepEqual(classifiedTables().filter((t) => !names.has(t)), []);
    assert.deepEqual(duplicateClassifications(), []);
    const count = ALL.reduce((n, t) => n + t.columns.length, 0);
    const classified = ALL.reduce((n, t) => n + t.columns.filter((c) => personalClassOf(t.name, c.name) !== undefined).length, 0);
    assert.equal(classified, count);
  });

  test('the columns that name a learner are direct identifiers', () => {
    for (const [t, c] of [['auth_user', 'email'], ['auth_user', 'username'], ['auth_userprofile', 'name'], ['email_opt_in', 'email'], ['events', 'username'], ['events', 'raw'], ['wiki_articlerevision', 'ip_address'], ['events_detail', 'ip']]) {
      assert.equal(personalClassOf(t!, c!), 'direct-identifier', `${t}.${c}`);
    }
    assert.equal(personalClassOf('auth_user', 'id'), 'pseudonymous-id');
    assert.equal(personalClassOf('auth_userprofile', 'year_of_birth'), 'quasi-identifier');
    assert.equal(personalClassOf('forum_contents', 'body'), 'free-text');
  });
});

describe('erasure keys', () => {
  test('every identifying column of a stored table is a key erasure finds rows by, or is listed as removed with the row', () => {
    const uncovered: string[] = [];
    for (const t of [...WEEKLY_TABLES, ...EVENT_TABLES]) {
      for (const c of t.columns) {
        if (c.personal !== 'direct-identifier' && c.personal !== 'pseudonymous-id') continue;
        const covered = c.name in LEARNER_KEY_COLUMN_NAMES || (LEARNER_KEY_COLUMNS[t.name] ?? []).some(([col]) => col === c.name) || NOT_LEARNER_KEYS.includes(`${t.name}.${c.name}`);
        if (!covered) uncovered.push(`${t.name}.${c.name}`);
      }
    }
    assert.deepEqual(uncovered, [], 'add these to LEARNER_KEY_COLUMNS or NOT_LEARNER_KEYS in core/domain/personal-data.ts');
  });
});

describe('docs/data-protection.md', () => {
  test('is up to date with the inventory and the default configuration (regenerate with `pds docs privacy`)', () => {
    assert.ok(readFileSync(DOC, 'utf8') === renderDefaultDataProtectionDoc(), 'docs/data-protection.md is out of date: run `node --import tsx core/cli/main.ts docs privacy` in the repository and commit the result');
  });

  test('names every table holding personal data, and follows the configuration (MongoDB events, MariaDB)', () => {
    const doc = renderDefaultDataProtectionDoc();
    for (const t of ALL) assert.ok(doc.includes(`| \`${t.name}\` |`), t.name);
    const cfg = defaultEnvironmentConfig();
    const mongo = renderDataProtectionDoc('live', {
      ...cfg,
      targets: { relational: { type: 'mariadb', user: 'pds', database: 'edx', connectionLimit: 8 }, events: { type: 'mongodb', uri: 'mongodb://db', database: 'edx', collectionPrefix: 'live_' } },
      retention: { landingDays: 7, quarantineDays: 90, diskFactor: 3 },
    });
    assert.match(mongo, /MongoDB database `edx`/);
    assert.match(mongo, /`live_events`/);
    assert.match(mongo, /MariaDB/);
    assert.match(mongo, /7 days after a successful load/);
    assert.match(mongo, /90 days/);
  });
});
