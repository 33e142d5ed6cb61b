/**
 * The local-folder / local-files source: listing, change fingerprints, copying via `.part`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { CancelledError, ConfigError, SourceError } from '../../core/errors/index.js';
import { createLocalSource } from '../../core/sources/local/local-source.js';
import type { ObjectSource, SourceObject } from '../../core/sources/ports.js';

let work: string;
let root: string;

async function listAll(source: ObjectSource): Promise<SourceObject[]> {
  const objects: SourceObject[] = [];
  for await (const object of source.list()) objects.push(object);
  return objects;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pds-local-source-'));
  root = join(work, 'incoming');
  // The layout of a bucket copied with `aws s3 sync` (docs/edx-formats.md §1).
  await mkdir(join(root, 'orgx', 'edx', 'events', '2015'), { recursive: true });
  await writeFile(join(root, 'orgx-2015-01-04.zip'), randomBytes(2048));
  await writeFile(join(root, 'orgx', 'edx', 'events', '2015', 'orgx-edx-events-2015-01-01.log.gz.gpg'), randomBytes(700));
  await writeFile(join(root, 'orgx', 'edx', 'events', '2015', 'orgx-edx-events-2015-01-02.log.gz.gpg.part'), randomBytes(10));
  await writeFile(join(root, '.DS_Store'), 'x');
  await symlink(root, join(root, 'orgx', 'loop')); // a folder link: must not be followed
  await symlink(join(root, 'nowhere'), join(root, 'dangling.gpg'));
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('local source', () => {
  test('lists a folder recursively with /-separated keys, skipping dot files, .part files and folder links', async () => {
    const source = createLocalSource({ root });
    const objects = await listAll(source);
    assert.deepEqual(
      objects.map((object) => object.key),
      // Depth first in name order: the folder `orgx` sorts before the file `orgx-…`.
      ['orgx/edx/events/2015/orgx-edx-events-2015-01-01.log.gz.gpg', 'orgx-2015-01-04.zip'],
    );
    const zip = objects[1];
    assert.equal(zip.location, 'local');
    assert.equal(zip.size, 2048);
    assert.match(zip.etag ?? '', /^2048-\d+$/);
    assert.ok(zip.lastModified instanceof Date);
    assert.match(source.describe(), /local folder .*incoming/);
  });

  test('the fingerprint changes when a file is rewritten', async () => {
    const path = join(root, 'orgx-2015-01-04.zip');
    const [before] = await listAll(createLocalSource({ files: [path] }));
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    const [after] = await listAll(createLocalSource({ files: [path] }));
    assert.equal(before.key, 'orgx-2015-01-04.zip');
    assert.notEqual(after.etag, before.etag);
  });

  test('downloads by copying through .part and renaming, reporting progress', async () => {
    const source = createLocalSource({ root });
    const objects = await listAll(source);
    const events = objects[0];
    const dest = join(work, 'landing', 'events', 'copy.log.gz.gpg');
    const progress: number[] = [];
    await source.download(events, dest, { onProgress: (bytes) => progress.push(bytes) });
    assert.deepEqual(await readFile(dest), await readFile(join(root, ...events.key.split('/'))));
    assert.equal(existsSync(`${dest}.part`), false);
    assert.equal(progress.at(-1), events.size);
  });

  test('a file that changed after listing is refused as retryable LOCAL_FILE_CHANGED', async () => {
    const path = join(work, 'changing.gpg');
    await writeFile(path, 'first version');
    const source = createLocalSource({ files: [path] });
    const [object] = await listAll(source);
    await writeFile(path, 'second, longer version');
    await assert.rejects(source.download(object, join(work, 'landing', 'changing.gpg')), (error: unknown) => {
      assert.ok(error instanceof SourceError);
      assert.equal(error.code, 'LOCAL_FILE_CHANGED');
      assert.equal(error.retryable, true);
      return true;
    });
    assert.equal(existsSync(join(work, 'landing', 'changing.gpg.part')), false);
  });

  test('a cancelled copy leaves neither the file nor a .part', async () => {
    const path = join(work, 'big.gpg');
    await writeFile(path, randomBytes(4 * 1024 * 1024));
    const source = createLocalSource({ files: [path] });
    const [object] = await listAll(source);
    const controller = new AbortController();
    const dest = join(work, 'landing', 'big.gpg');
    await assert.rejects(
      source.download(object, dest, { signal: controller.signal, onProgress: (bytes) => bytes > 0 && controller.abort() }),
      (error: unknown) => error instanceof CancelledError,
    );
    assert.equal(existsSync(dest), false);
    assert.equal(existsSync(`${dest}.part`), false);
  });

  test('missing paths and clashing file names are reported clearly', async () => {
    await assert.rejects(listAll(createLocalSource({ root: join(work, 'absent') })), (error: unknown) => {
      assert.ok(error instanceof SourceError);
      assert.equal(error.code, 'LOCAL_NOT_FOUND');
      assert.match(error.message, /absent does not exist/);
      return true;
    });
    await mkdir(join(work, 'a'));
    await mkdir(join(work, 'b'));
    await writeFile(join(work, 'a', 'same.gpg'), '1');
    await writeFile(join(work, 'b', 'same.gpg'), '2');
    assert.throws(
      () => createLocalSource({ files: [join(work, 'a', 'same.gpg'), join(work, 'b', 'same.gpg')] }),
      (error: unknown) => error instanceof ConfigError && error.code === 'LOCAL_DUPLICATE_NAME',
    );
    assert.throws(() => createLocalSource({}), ConfigError);
  });
});
