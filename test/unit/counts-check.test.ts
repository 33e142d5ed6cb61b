/**
 * Counts that make silent loss visible: every line read is loaded, rejected (quarantined) or
 * already present; a file whose counts do not add up is flagged COUNTS_DO_NOT_ADD_UP.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recognizeFileName } from '../../core/domain/file-names.js';
import type { ContentOutcome } from '../../core/pipeline/load-content.js';
import { unaccountedLines, verdict } from '../../core/pipeline/run-file.js';

const log = recognizeFileName('orgx-edx-events-2026-01-02.log.gz.gpg');
const table = recognizeFileName('OrgX-C1-2026-auth_user-prod-analytics.sql.gpg');

function outcome(counts: ContentOutcome['counts'], extra: Partial<ContentOutcome> = {}): ContentOutcome {
  return { counts, warnings: [], rejected: [], ...extra };
}

describe('counts check', () => {
  test('counts that add up keep their verdict: loaded, or partial with rejected lines', () => {
    assert.equal(verdict(log, outcome({ read: 10, loaded: 6, rejected: 0, duplicates: 4 })).status, 'loaded');
    const partial = verdict(log, outcome({ read: 10, loaded: 5, rejected: 2, duplicates: 3 }));
    assert.equal(partial.status, 'partial');
    assert.equal(partial.code, 'LINES_REJECTED');
  });

  test('lines neither loaded, rejected nor already present flag the file, naming each count', () => {
    const v = verdict(log, outcome({ read: 100, loaded: 90, rejected: 3, duplicates: 2 }));
    assert.equal(v.status, 'partial');
    assert.equal(v.code, 'COUNTS_DO_NOT_ADD_UP');
    assert.match(v.reason ?? '', /orgx-edx-events-2026-01-02\.log\.gz\.gpg: of 100 lines read, 90 were loaded, 3 rejected and 2 already present, so 5 line\(s\) are unaccounted for/);
    assert.ok(v.hint);
  });

  test('more rows counted than lines read is flagged too', () => {
    const v = verdict(table, outcome({ read: 10, loaded: 12, rejected: 0, duplicates: 0 }));
    assert.equal(v.code, 'COUNTS_DO_NOT_ADD_UP');
    assert.match(v.reason ?? '', /2 more row\(s\) were counted than lines read/);
  });

  test('a stale snapshot (a newer one is in place) changed nothing on purpose and is not flagged', () => {
    assert.equal(unaccountedLines({ read: 10, loaded: 0, rejected: 0, duplicates: 0 }, true), 0);
    assert.equal(verdict(table, outcome({ read: 10, loaded: 0, rejected: 0, duplicates: 0 }, { stale: true })).status, 'loaded');
  });

  test('a file of which no line loaded keeps its own failure', () => {
    const v = verdict(log, outcome({ read: 4, loaded: 0, rejected: 4, duplicates: 0 }, { noLineLoaded: true }));
    assert.equal(v.code, 'NO_LINE_READABLE');
  });
});
