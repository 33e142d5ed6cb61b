/**
 * End to end into MongoDB (issue: MongoDB target), against FerretDB: the MinIO + GnuPG delivery of
 * the core tests loaded with `targets.events = mongodb` gives the same event counts per course and
 * type as into SQLite, forum dumps and course structures land as documents, and a server that
 * dies in the middle of a run leaves the next run to complete it with exact counts.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { RunResult } from '../../core/domain/results.js';
import { SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';
import { createDelivery, type Delivery } from '../support/delivery.js';
import { startFerretDb, type FerretDbServer } from '../support/ferretdb.js';
import { collect, runPds, spawnPds } from '../support/pds-cli.js';

let d: Delivery;
let mongo: FerretDbServer;

const mongoTargets = (database: string): string[] => ['    targets:', '      events:', '        type: mongodb', `        uri: ${mongo.uri}`, `        database: ${database}`];

/** Events per (course, canonical type) as the documents in MongoDB say. */
async function mongoCounts(database: string): Promise<Map<string, number>> {
  const client = new MongoClient(mongo.uri);
  try {
    const out = new Map<string, number>();
    const docs = client.db(database).collection('events').find({}, { projection: { _course: 1, _type: 1 } });
    for await (const doc of docs) {
      const key = `${doc._course ?? ''}|${doc._type ?? ''}`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
    return out;
  } finally {
    await client.close();
  }
}

describe('pds run with MongoDB (FerretDB) as the events target', { timeout: 900_000 }, () => {
  before(async () => {
    [d, mongo] = await Promise.all([createDelivery({ eventsPerDay: 150 }), startFerretDb()]);
  });

  after(async () => {
    await Promise.allSettled([d?.dispose(), mongo?.stop()]);
  });

  test('events per course and type equal the SQLite load; forum and course structure are documents too', async () => {
    const m = await d.newHome({ targetsYaml: mongoTargets('pds_same') });
    const res = await runPds(['run', '--env', 'itest', '--json'], m.env);
    assert.equal(res.code, 2, res.stderr);
    const check = await runPds(['db', 'check', '--env', 'itest', '--json'], m.env);
    assert.equal(check.code, 0, check.stdout + check.stderr);

    const s = await d.newHome();
    assert.equal((await runPds(['run', '--env', 'itest', '--quiet'], s.env)).code, 2);
    const sqlite = new SqliteStore({ path: join(s.home, 'envs', 'itest', 'data.sqlite') });
    await sqlite.init();
    const expected = new Map<string, number>();
    try {
      for (const r of await sqlite.countByCourseAndType()) expected.set(`${r.courseId ?? ''}|${r.type ?? ''}`, r.count);
    } finally {
      await sqlite.close();
    }
    const goodEvents = d.manifest.events.filter((day) => !day.corrupt).reduce((n, day) => n + day.goodEvents, 0);
    assert.equal([...expected.values()].reduce((a, b) => a + b, 0), goodEvents);
    assert.deepEqual(new Map([...(await mongoCounts('pds_same')).entries()].sort()), new Map([...expected.entries()].sort()));

    const client = new MongoClient(mongo.uri);
    try {
      const db = client.db('pds_same');
      const pointers = await db.collection('forum_snapshots').find({}).toArray();
      assert.equal(pointers.length, Object.keys(d.manifest.forumDocuments).length);
      for (const p of pointers) assert.equal(await db.collection(String(p.collection)).countDocuments(), d.manifest.forumDocuments[String(p._id)], `forum ${p._id}`);
      const structures = await db.collection('course_structure').find({}).toArray();
      assert.equal(structures.length, Object.keys(d.manifest.courseStructureBlocks).length);
      for (const st of structures) assert.equal((st.blocks as unknown[]).length, d.manifest.courseStructureBlocks[String(st._id)]);
    } finally {
      await client.close();
    }
  });

  test('the server killed in the middle of a run: the run stops with one clear message, and the next run completes it with exact counts', async () => {
    const reference = await d.newHome({ targetsYaml: mongoTargets('pds_reference') });
    assert.equal((await runPds(['run', '--env', 'itest', '--quiet'], reference.env)).code, 2);

    const victim = await d.newHome({ targetsYaml: mongoTargets('pds_victim') });
    const child = spawnPds(['run', '--env', 'itest', '--only', 'events'], victim.env);
    let killed = false;
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      if (!killed && /^(loaded|partial) .*events/m.test(text)) {
        killed = true;
        void mongo.kill();
      }
    });
    const interrupted = await collect(child);
    assert.ok(killed, `the server was killed during the run\n${interrupted.stderr}`);
    assert.equal(interrupted.code, 1, interrupted.stderr);
    await mongo.restart();
    const resumed = await runPds(['run', '--env', 'itest', '--json'], victim.env);
    assert.equal(resumed.code, 2, resumed.stderr);
    assert.ok((JSON.parse(resumed.stdout) as RunResult).planned.length > 0);
    assert.deepEqual(new Map([...(await mongoCounts('pds_victim')).entries()].sort()), new Map([...(await mongoCounts('pds_reference')).entries()].sort()));
  });
});
