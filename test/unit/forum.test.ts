import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'bson';
import { readLines } from '../../core/formats/lines.js';
import { FORUM_ROW_COLUMNS, forumRow, readForum, type ForumDoc } from '../../core/formats/forum.js';
import type { RejectedLine } from '../../core/domain/records.js';

async function* bytes(text: string): AsyncGenerator<Buffer> {
  yield Buffer.from(text, 'utf8');
}

async function readAll(text: string): Promise<{ docs: ForumDoc[]; rejected: RejectedLine[] }> {
  const docs: ForumDoc[] = [];
  const rejected: RejectedLine[] = [];
  for await (const b of readForum(readLines(bytes(text)), { fileName: 'UQx-THINK101x-1T2014-prod.mongo' })) {
    docs.push(...b.docs);
    rejected.push(...b.rejected);
  }
  return { docs, rejected };
}

// mongoexport lines in the three `$date` spellings seen over the years (§4.11, §7.16).
const THREAD =
  '{"_id":{"$oid":"52e1a1b2c3d4e5f601234567"},"_type":"CommentThread","anonymous":false,"anonymous_to_peers":false,"at_position_list":[],"author_id":"12345","author_username":"alice","body":"How do I start? 😀","closed":false,"comment_count":2,"commentable_id":"i4x-UQx-THINK101x-course-1T2014","course_id":"UQx/THINK101x/1T2014","created_at":{"$date":1390519730000},"last_activity_at":{"$date":1390519730000},"tags_array":[],"thread_type":"question","title":"Getting started","updated_at":{"$date":"2014-01-24T00:00:00.123Z"},"votes":{"count":3,"down":[],"down_count":0,"point":3,"up":["1","2","3"],"up_count":3}}';
const COMMENT =
  '{"_id":{"$oid":"52e1a1b2c3d4e5f601234568"},"_type":"Comment","abuse_flaggers":[],"anonymous":true,"anonymous_to_peers":false,"author_id":"678","author_username":"bob","body":"Read the syllabus.","comment_thread_id":{"$oid":"52e1a1b2c3d4e5f601234567"},"course_id":"UQx/THINK101x/1T2014","created_at":{"$date":{"$numberLong":"1390523330000"}},"endorsed":true,"endorsement":{"user_id":"9","time":{"$date":1390523400000}},"parent_id":{"$oid":"52e1a1b2c3d4e5f601234569"},"parent_ids":[{"$oid":"52e1a1b2c3d4e5f601234569"}],"sk":"52e1","updated_at":{"$date":1390523330000},"visible":true,"votes":{"count":0,"down":["4"],"point":-1,"up":[]}}';

describe('readForum (§4.11, §7.16)', () => {
  test('extended JSON: $oid → ObjectId, $date as epoch number, ISO string and $numberLong → Date', async () => {
    const { docs, rejected } = await readAll(`${THREAD}\n${COMMENT}\n`);
    assert.deepEqual(rejected, []);
    assert.deepEqual(docs.map((d) => d.line), [1, 2]);
    const [thread, comment] = docs.map((d) => d.doc);
    assert.ok(thread._id instanceof ObjectId);
    assert.equal((thread._id as ObjectId).toHexString(), '52e1a1b2c3d4e5f601234567');
    assert.ok(thread.created_at instanceof Date);
    assert.equal((thread.created_at as Date).toISOString(), '2014-01-23T23:28:50.000Z');
    assert.equal((thread.updated_at as Date).toISOString(), '2014-01-24T00:00:00.123Z');
    assert.equal((comment.created_at as Date).toISOString(), '2014-01-24T00:28:50.000Z');
    assert.equal(thread.author_id, '12345');
    assert.equal(thread.comment_count, 2);
    assert.equal(docs[0].raw, THREAD);
  });

  test('bad lines are rejected by line and reading goes on; blank lines are skipped', async () => {
    const text = [THREAD, '{"_id": {"$oid": "nothex"}}', '', '{"_id": {"$oid": "52e1', '[1]', COMMENT].join('\r\n');
    const { docs, rejected } = await readAll(text);
    assert.deepEqual(docs.map((d) => d.line), [1, 6]);
    assert.deepEqual(rejected.map((r) => [r.line, r.code]), [
      [2, 'EJSON_INVALID'],
      [4, 'JSON_INVALID'],
      [5, 'JSON_NOT_OBJECT'],
    ]);
    assert.equal(docs[0].raw, THREAD, 'CR removed');
  });
});

describe('forumRow', () => {
  test('a thread', async () => {
    const { docs } = await readAll(THREAD);
    const row = forumRow(docs[0].doc, docs[0].raw);
    assert.deepEqual(Object.keys(row), [...FORUM_ROW_COLUMNS]);
    assert.deepEqual(row, {
      id: '52e1a1b2c3d4e5f601234567',
      type: 'CommentThread',
      course_id: 'UQx/THINK101x/1T2014',
      author_id: '12345',
      author_username: 'alice',
      thread_id: '52e1a1b2c3d4e5f601234567',
      parent_id: null,
      title: 'Getting started',
      body: 'How do I start? 😀',
      commentable_id: 'i4x-UQx-THINK101x-course-1T2014',
      thread_type: 'question',
      created_at: '2014-01-23 23:28:50',
      updated_at: '2014-01-24 00:00:00.123000',
      anonymous: 0,
      votes_up: 3,
      votes_down: 0,
      comment_count: 2,
      endorsed: null,
      doc: THREAD,
    });
  });

  test('a comment: thread and parent ids, endorsed, votes counted from lists when counts are absent', async () => {
    const { docs } = await readAll(COMMENT);
    const row = forumRow(docs[0].doc);
    assert.equal(row.type, 'Comment');
    assert.equal(row.thread_id, '52e1a1b2c3d4e5f601234567');
    assert.equal(row.parent_id, '52e1a1b2c3d4e5f601234569');
    assert.equal(row.title, null);
    assert.equal(row.anonymous, 1);
    assert.equal(row.endorsed, 1);
    assert.equal(row.votes_up, 0);
    assert.equal(row.votes_down, 1);
    assert.equal(row.created_at, '2014-01-24 00:28:50');
    // Without the raw line, the document is written back as relaxed extended JSON.
    const doc = JSON.parse(row.doc as string) as Record<string, unknown>;
    assert.deepEqual(doc._id, { $oid: '52e1a1b2c3d4e5f601234568' });
    assert.equal(doc.author_username, 'bob');
  });

  test('a numeric author_id is kept as a string', () => {
    assert.equal(forumRow({ _id: new ObjectId('52e1a1b2c3d4e5f601234567'), author_id: 42 }).author_id, '42');
  });
});
