import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { listZipMembers, openZipMember } from '../../core/formats/weekly-zip.js';
import { ParseError } from '../../core/errors/index.js';

/** A STORE-only zip writer (enough for tests): `crcOverride` writes a wrong CRC on purpose. */
function storeZip(files: { name: string; data: Buffer; crcOverride?: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const crc = f.crcOverride ?? crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // STORE
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(f.data.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(f.data.length, 20);
    central.writeUInt32LE(f.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, f.data);
    centrals.push(central, name);
    offset += local.length + name.length + f.data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

async function readStream(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

function hasZipCommand(): boolean {
  try {
    execFileSync('zip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function isParseError(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof ParseError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.stage, 'decode');
    return true;
  };
}

describe('weekly zip (§1.3)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pds-weekly-zip-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const PKG = 'uqx-2015-01-04';
  const big = Buffer.from('id\tstate\n'.repeat(1) + '1\t{"position": 3}\n'.repeat(20000));
  const memberFiles: Record<string, Buffer> = {
    [`${PKG}/UQx-THINK101x-1T2014-auth_user-prod-analytics.sql.gpg`]: Buffer.from([0x85, 0x01, 0x0c, 0x03, 0xff, 0x00, 0x7f]),
    [`${PKG}/UQx-THINK101x-1T2014-courseware_studentmodule-prod-analytics.sql.gpg`]: big,
    [`${PKG}/ora/UQx-THINK101x-1T2014-submissions_score-prod-analytics.sql.gpg`]: Buffer.from('ora bytes'),
    [`${PKG}/UQx-THINK101x-1T2014-prod.mongo.gpg`]: Buffer.alloc(0),
  };

  function buildWithZipCommand(name: string, extraArgs: string[]): string {
    const root = join(dir, `${name}-src`);
    for (const [member, data] of Object.entries(memberFiles)) {
      const path = join(root, ...member.split('/'));
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, data);
    }
    const zipPath = join(dir, `${name}.zip`);
    // As the exporter does: `zip --recurse-paths {org}-{date}.zip {org}-{date}` from the parent.
    execFileSync('zip', ['--quiet', '--recurse-paths', ...extraArgs, zipPath, PKG], { cwd: root });
    return zipPath;
  }

  test('Info-ZIP archive (as the exporter makes it): members listed with sizes and CRCs, folders omitted', { skip: !hasZipCommand() && 'zip command not installed' }, async () => {
    const zipPath = buildWithZipCommand('info-zip', []);
    const members = await listZipMembers(zipPath);
    assert.deepEqual(members.map((m) => m.name).sort(), Object.keys(memberFiles).sort());
    for (const m of members) {
      const data = memberFiles[m.name];
      assert.equal(m.size, data.length);
      assert.equal(m.crc32, crc32(data));
    }
    const studentmodule = members.find((m) => m.name.includes('courseware_studentmodule'));
    assert.ok(studentmodule && studentmodule.compressedSize < studentmodule.size, 'deflated');
    for (const name of Object.keys(memberFiles)) {
      assert.deepEqual(await readStream(await openZipMember(zipPath, name)), memberFiles[name]);
    }
  });

  test('Zip64 archive (zip -fz) reads the same', { skip: !hasZipCommand() && 'zip command not installed' }, async () => {
    const zipPath = buildWithZipCommand('zip64', ['-fz']);
    const members = await listZipMembers(zipPath);
    assert.equal(members.length, Object.keys(memberFiles).length);
    const name = `${PKG}/UQx-THINK101x-1T2014-courseware_studentmodule-prod-analytics.sql.gpg`;
    assert.deepEqual(await readStream(await openZipMember(zipPath, name)), big);
  });

  test('hand-built STORE archive: listing and reading, UTF-8 names', async () => {
    const zipPath = join(dir, 'store.zip');
    const files = [
      { name: `${PKG}/a.sql.gpg`, data: Buffer.from('alpha') },
      { name: `${PKG}/ora/Ünïcode-b.sql.gpg`, data: Buffer.from('beta') },
    ];
    writeFileSync(zipPath, storeZip(files));
    const members = await listZipMembers(zipPath);
    assert.deepEqual(members, files.map((f) => ({ name: f.name, size: f.data.length, compressedSize: f.data.length, crc32: crc32(f.data) })));
    assert.equal((await readStream(await openZipMember(zipPath, `${PKG}/ora/Ünïcode-b.sql.gpg`))).toString(), 'beta');
  });

  test('a missing member is ZIP_MEMBER_MISSING', async () => {
    const zipPath = join(dir, 'missing.zip');
    writeFileSync(zipPath, storeZip([{ name: 'x/a.sql.gpg', data: Buffer.from('a') }]));
    await assert.rejects(openZipMember(zipPath, 'x/b.sql.gpg'), isParseError('ZIP_MEMBER_MISSING'));
  });

  test('a member whose data does not match its CRC-32 fails while reading', async () => {
    const zipPath = join(dir, 'badcrc.zip');
    writeFileSync(zipPath, storeZip([{ name: 'x/a.sql.gpg', data: Buffer.from('payload'), crcOverride: 0x12345678 }]));
    const stream = await openZipMember(zipPath, 'x/a.sql.gpg');
    await assert.rejects(readStream(stream), (error: unknown) => {
      isParseError('ZIP_CORRUPT')(error);
      assert.match((error as Error).message, /CRC-32/);
      return true;
    });
  });

  test('text, random bytes and an empty file named .zip are NOT_ZIP, naming the file', async () => {
    const cases: [string, Buffer, string][] = [
      ['text.zip', Buffer.from('this is not a zip archive at all'), 'it does not start with the zip signature PK'],
      ['random.zip', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251)), 'it does not start with the zip signature PK'],
      ['empty.zip', Buffer.alloc(0), 'it is empty (0 bytes)'],
    ];
    for (const [name, bytes, why] of cases) {
      writeFileSync(join(dir, name), bytes);
      await assert.rejects(listZipMembers(join(dir, name)), (error: unknown) => {
        isParseError('NOT_ZIP')(error);
        assert.equal((error as Error).message, `${name} is named .zip but is not a zip archive (${why}).`);
        return true;
      });
    }
  });

  test('a truncated zip and a missing file are ZIP_CORRUPT', async () => {
    const full = storeZip([{ name: 'x/a.sql.gpg', data: Buffer.alloc(1000, 7) }]);
    const cut = join(dir, 'cut.zip');
    writeFileSync(cut, full.subarray(0, full.length - 30));
    await assert.rejects(listZipMembers(cut), (error: unknown) => {
      isParseError('ZIP_CORRUPT')(error);
      assert.match((error as Error).message, /^cut\.zip: is not a readable zip archive: it is truncated or damaged \(/);
      return true;
    });
    await assert.rejects(openZipMember(cut, 'x/a.sql.gpg'), isParseError('ZIP_CORRUPT'));
    await assert.rejects(listZipMembers(join(dir, 'absent.zip')), isParseError('ZIP_CORRUPT'));
  });

  test('zip-slip names are refused, never used as paths', async () => {
    const zipPath = join(dir, 'slip.zip');
    writeFileSync(zipPath, storeZip([{ name: '../../etc/evil.sql.gpg', data: Buffer.from('x') }]));
    await assert.rejects(listZipMembers(zipPath), (error: unknown) => {
      isParseError('ZIP_CORRUPT')(error);
      assert.match((error as Error).message, /relative path/);
      return true;
    });
  });
});
