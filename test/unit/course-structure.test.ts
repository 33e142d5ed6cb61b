import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readCourseStructure } from '../../core/formats/course-structure.js';
import { ParseError } from '../../core/errors/index.js';

const ROOT = 'block-v1:DelftX+EX101x+2T2018+type@course+block@course';
const CH1 = 'block-v1:DelftX+EX101x+2T2018+type@chapter+block@c1';
const CH2 = 'block-v1:DelftX+EX101x+2T2018+type@chapter+block@c2';
const SEQ = 'block-v1:DelftX+EX101x+2T2018+type@sequential+block@s1';
const PROB = 'block-v1:DelftX+EX101x+2T2018+type@problem+block@p1';
const ORPHAN = 'block-v1:DelftX+EX101x+2T2018+type@html+block@lost';

const STRUCTURE = {
  // Keys in an order unrelated to the outline: the tree comes from `children`.
  [PROB]: { category: 'problem', children: [], metadata: { display_name: 'Q1 😀', graded: true, format: 'Homework' } },
  [ORPHAN]: { category: 'html', children: [], metadata: {} },
  [ROOT]: { category: 'course', children: [CH1, CH2], metadata: { display_name: 'Excel', start: '2018-04-01T00:00:00Z' } },
  [SEQ]: { category: 'sequential', children: [PROB, 'block-v1:DelftX+EX101x+2T2018+type@vertical+block@missing'], metadata: { display_name: 'Week 1', graded: true, format: 'Homework', due: '2018-05-01T12:00:00+00:00' } },
  [CH2]: { category: 'chapter', children: [SEQ], metadata: { display_name: 'Also lists the sequential' } },
  [CH1]: { category: 'chapter', children: [SEQ], metadata: { display_name: 'Chapter 1', graded: false } },
};

function expectParseError(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ParseError);
    assert.equal(error.code, code);
    assert.equal(error.file, 'c-course_structure-prod-analytics.json');
    assert.ok(error.hint, 'says what to do');
    return true;
  });
}

describe('readCourseStructure (§4.10)', () => {
  test('blocks placed in the tree: parent, position, depth, root first, orphans last', () => {
    const { blocks, courseId } = readCourseStructure(JSON.stringify(STRUCTURE), 'c-course_structure-prod-analytics.json');
    assert.equal(courseId, 'course-v1:DelftX+EX101x+2T2018');
    assert.deepEqual(
      blocks.map((b) => [b.block_id, b.parent_id, b.position, b.depth, b.is_root]),
      [
        [ROOT, null, null, 0, 1],
        [CH1, ROOT, 0, 1, 0],
        [SEQ, CH1, 0, 2, 0], // listed by both chapters: placed under the first
        [PROB, SEQ, 0, 3, 0],
        [CH2, ROOT, 1, 1, 0],
        [ORPHAN, null, null, null, 0],
      ],
    );
  });

  test('metadata: display name, graded, format, start and due as SQL datetimes', () => {
    const { blocks } = readCourseStructure(JSON.stringify(STRUCTURE), 'c-course_structure-prod-analytics.json');
    const byId = new Map(blocks.map((b) => [b.block_id, b]));
    assert.deepEqual(byId.get(ROOT), {
      block_id: ROOT,
      category: 'course',
      display_name: 'Excel',
      parent_id: null,
      position: null,
      depth: 0,
      graded: null,
      format: null,
      start: '2018-04-01 00:00:00',
      due: null,
      is_root: 1,
    });
    assert.equal(byId.get(SEQ)?.due, '2018-05-01 12:00:00');
    assert.equal(byId.get(SEQ)?.graded, 1);
    assert.equal(byId.get(CH1)?.graded, 0);
    assert.equal(byId.get(PROB)?.display_name, 'Q1 😀');
    assert.equal(byId.get(PROB)?.format, 'Homework');
  });

  test('old i4x ids give an old-style course id', () => {
    const root = 'i4x://MITx/6.002x/course/2012_Fall';
    const { courseId, blocks } = readCourseStructure(JSON.stringify({ [root]: { category: 'course', children: [], metadata: {} } }), 'x.json');
    assert.equal(courseId, 'MITx/6.002x/2012_Fall');
    assert.equal(blocks.length, 1);
  });

  test('not JSON (e.g. cut short)', () => {
    expectParseError(() => readCourseStructure('{"block-v1:a": {"category": "cou', 'c-course_structure-prod-analytics.json'), 'COURSE_STRUCTURE_INVALID');
    expectParseError(() => readCourseStructure('[1, 2]', 'c-course_structure-prod-analytics.json'), 'COURSE_STRUCTURE_INVALID');
  });

  test('no course entry', () => {
    expectParseError(() => readCourseStructure(JSON.stringify({ [CH1]: { category: 'chapter', children: [] } }), 'c-course_structure-prod-analytics.json'), 'COURSE_STRUCTURE_NO_COURSE');
  });

  test('more than one course entry', () => {
    const two = { [ROOT]: { category: 'course', children: [] }, other: { category: 'course', children: [] } };
    expectParseError(() => readCourseStructure(JSON.stringify(two), 'c-course_structure-prod-analytics.json'), 'COURSE_STRUCTURE_MANY_COURSES');
  });

  test('a cycle in children does not loop', () => {
    const cyc = { [ROOT]: { category: 'course', children: [CH1] }, [CH1]: { category: 'chapter', children: [ROOT, CH1] } };
    const { blocks } = readCourseStructure(JSON.stringify(cyc), 'x.json');
    assert.deepEqual(blocks.map((b) => b.block_id), [ROOT, CH1]);
  });
});
