import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidDate, normalizeEventTime, normalizeSqlDatetime, sqlDatetimeFromDate } from '../../core/domain/datetime.js';

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
