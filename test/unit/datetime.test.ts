import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dateOptionsProblem, dateProblem, isValidDate, normalizeEventTime, normalizeSqlDatetime, sqlDatetimeFromDate } from '../../core/domain/datetime.js';

describe('normalizeSqlDatetime (docs/edx-formats.md §3)', () => {
  test('keeps a plain exporter datetime', () => {
    assert.equal(normalizeSqlDatetime('2013-03-19 17:21:07'), '2013-03-19 17:21:07');
  });

  test('optional microseconds: padded to six digits, dropped when zero', () => {
    assert.equal(normalizeSqlDatetime('2014-01-07 20:18:54.123456'), '2014-01-07 20:18:54.123456');
    assert.equal(normalizeSqlDatetime('2014-01-07 20:18:54.5'), '2014-01-07 20:18:54.500000');
    assert.equal(normalizeSqlDatetime('2014-01-07 20:18:54.000000'), '2014-01-07 20:18:54');
    assert.equal(normalizeSqlDatetime('2014-01-07 20:18:54.1234567'), '2014-01-07 20:18:54.123456');
  });

  test('tz-aware values (email opt-in) are converted to UTC', () => {
    assert.equal(normalizeSqlDatetime('2015-03-04 12:34:56+00:00'), '2015-03-04 12:34:56');
    assert.equal(normalizeSqlDatetime('2015-03-04 12:34:56Z'), '2015-03-04 12:34:56');
    assert.equal(normalizeSqlDatetime('2015-03-04 01:30:00+02:00'), '2015-03-03 23:30:00');
    assert.equal(normalizeSqlDatetime('2015-12-31 23:30:00.25-01:00'), '2016-01-01 00:30:00.250000');
    assert.equal(normalizeSqlDatetime('2016-02-29 23:00:00-0130'), '2016-03-01 00:30:00');
  });

  test('accepts a T separator (course structure metadata)', () => {
    assert.equal(normalizeSqlDatetime('2013-02-05T05:00:00Z'), '2013-02-05 05:00:00');
  });

  test('rejects what is not a datetime', () => {
    for (const bad of ['', 'NULL', '2013-02-30 00:00:00', '2013-13-01 00:00:00', '2013-01-01', '2013-01-01 24:00:00', '2013-01-01 10:00:00 junk', '2013-01-01 10:00:00.', '2013-01-01 10:00:00+5']) {
      assert.equal(normalizeSqlDatetime(bad), null, bad);
    }
  });
});

describe('normalizeEventTime (docs/edx-formats.md §5.2, §7.8)', () => {
  test('with microseconds and +00:00', () => {
    assert.equal(normalizeEventTime('2014-12-23T14:26:53.723188+00:00'), '2014-12-23T14:26:53.723188Z');
  });
  test('without fraction', () => {
    assert.equal(normalizeEventTime('2014-12-09T03:57:24+00:00'), '2014-12-09T03:57:24.000000Z');
  });
  test('without offset is UTC', () => {
    assert.equal(normalizeEventTime('2012-09-09T00:00:48.1'), '2012-09-09T00:00:48.100000Z');
  });
  test('Z accepted', () => {
    assert.equal(normalizeEventTime('2017-06-01T12:34:56.123Z'), '2017-06-01T12:34:56.123000Z');
  });
  test('other offsets converted', () => {
    assert.equal(normalizeEventTime('2017-06-01T00:10:00.000001+01:00'), '2017-05-31T23:10:00.000001Z');
  });
  test('normalised times sort as strings', () => {
    const a = normalizeEventTime('2014-12-09T03:57:24+00:00')!;
    const b = normalizeEventTime('2014-12-09T03:57:24.5+00:00')!;
    assert.ok(a < b);
  });
  test('invalid → null', () => {
    assert.equal(normalizeEventTime('yesterday'), null);
    assert.equal(normalizeEventTime('2014-02-29T00:00:00'), null);
  });
});

describe('isValidDate and sqlDatetimeFromDate', () => {
  test('calendar dates', () => {
    assert.equal(isValidDate('2016-02-29'), true);
    assert.equal(isValidDate('2015-02-29'), false);
    assert.equal(isValidDate('2015-1-01'), false);
  });
  test('Date → SQL datetime', () => {
    assert.equal(sqlDatetimeFromDate(new Date(Date.UTC(2014, 2, 13, 13, 40, 0, 0))), '2014-03-13 13:40:00');
    assert.equal(sqlDatetimeFromDate(new Date(Date.UTC(2014, 2, 13, 13, 40, 0, 7))), '2014-03-13 13:40:00.007000');
    assert.equal(sqlDatetimeFromDate(new Date(Number.NaN)), null);
  });
});

describe('dateProblem / dateOptionsProblem (dates given to the CLI and the service)', () => {
  test('real calendar dates pass, leap years included', () => {
    for (const d of ['2026-02-28', '2024-02-29', '2000-02-29', '2026-12-31', '2026-01-01']) assert.equal(dateProblem(d), undefined, d);
  });

  test('each refusal says why once and gives the nearest real date as the example', () => {
    assert.equal(dateProblem('2026-02-31'), '2026-02-31 is not a date (February 2026 has 28 days); use YYYY-MM-DD, e.g. 2026-02-28');
    assert.equal(dateProblem('1900-02-29'), '1900-02-29 is not a date (February 1900 has 28 days); use YYYY-MM-DD, e.g. 1900-02-28');
    assert.equal(dateProblem('2026-04-31'), '2026-04-31 is not a date (April 2026 has 30 days); use YYYY-MM-DD, e.g. 2026-04-30');
    assert.equal(dateProblem('2026-13-45'), '2026-13-45 is not a date (there is no month 13); use YYYY-MM-DD, e.g. 2026-12-31');
    assert.equal(dateProblem('2026-00-10'), '2026-00-10 is not a date (there is no month 00); use YYYY-MM-DD, e.g. 2026-01-10');
    assert.equal(dateProblem('2026-05-00'), '2026-05-00 is not a date (days start at 01); use YYYY-MM-DD, e.g. 2026-05-01');
    assert.equal(dateProblem('2026-2-3'), '2026-2-3 is not written YYYY-MM-DD; use 2026-02-03');
    assert.equal(dateProblem('yesterday'), '"yesterday" is not a date; use YYYY-MM-DD, e.g. 2026-01-31');
    assert.equal(dateProblem('2026-01-31T00:00'), '"2026-01-31T00:00" is not a date; use YYYY-MM-DD, e.g. 2026-01-31');
  });

  test('options: the first bad one is named, then from after to', () => {
    const names = { from: '--from', to: '--to', snapshotDate: '--snapshot-date' };
    assert.equal(dateOptionsProblem({}, names), undefined);
    assert.equal(dateOptionsProblem({ from: '2026-01-01', to: '2026-01-01', snapshotDate: '2026-01-04' }, names), undefined);
    assert.equal(dateOptionsProblem({ from: '2026-01-01', to: '2026-02-30' }, names), '--to: 2026-02-30 is not a date (February 2026 has 28 days); use YYYY-MM-DD, e.g. 2026-02-28');
    assert.equal(
      dateOptionsProblem({ from: '2026-03-01', to: '2026-02-01' }, names),
      '--from 2026-03-01 is after --to 2026-02-01: no date is in that window; give the earlier date first.',
    );
  });
});
