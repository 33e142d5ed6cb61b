/**
 * The desktop app's packaging, checked without building installers (that needs Electron's binary
 * and each platform's tools): build/electron-builder.yml passes electron-builder's own
 * configuration schema and holds the targets, app id, icons and the unpacked, rebuilt native
 * module; the icons are real PNGs of their sizes; package.json points Electron at the built main.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);
const require = createRequire(import.meta.url);

/** Width and height from a PNG's IHDR chunk. */
function pngSize(data: Buffer): [number, number] {
  assert.deepEqual([...data.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG signature');
  assert.equal(data.subarray(12, 16).toString('ascii'), 'IHDR');
  return [data.readUInt32BE(16), data.readUInt32BE(20)];
}

describe('desktop app packaging', () => {
  test('build/electron-builder.yml is valid for electron-builder and says what the issue asks', async () => {
    const config = parse(await readFile(new URL('build/electron-builder.yml', root), 'utf8')) as Record<string, any>;
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as { validateConfiguration(c: unknown, logger: unknown): Promise<void> };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await validateConfiguration(config, new DebugLogger(false));

    assert.equal(config.appId, 'org.platformdatastore.desktop');
    assert.equal(config.productName, 'Platform Data Store');
    assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
    assert.deepEqual(config.win.target, ['nsis']);
    assert.deepEqual(config.mac.target, ['dmg']);
    assert.equal(config.asar, true);
    assert.ok(config.asarUnpack.includes('**/node_modules/better-sqlite3/**'));
    assert.equal(config.npmRebuild, true, 'native modules rebuilt for Electron’s ABI');
    assert.ok(config.files.includes('dist/electron/**') && config.files.includes('dist/renderer/**'));
  });

  test('the icons are PNGs of their sizes', async () => {
    for (const size of [512, 256, 128, 64, 32, 16]) {
      assert.deepEqual(pngSize(await readFile(new URL(`build/icons/${size}x${size}.png`, root))), [size, size]);
    }
  });

  test('package.json: Electron starts the built main; app and dist scripts; the bundles are built by npm test', async () => {
    const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { main: string; scripts: Record<string, string>; devDependencies: Record<string, string>; allowScripts: Record<string, boolean> };
    assert.equal(pkg.main, 'dist/electron/main.mjs');
    assert.match(pkg.scripts.app!, /build-electron\.mjs --dev && node build\/run-app\.mjs/);
    assert.match(pkg.scripts.dist!, /electron-builder --config build\/electron-builder\.yml/);
    assert.match(pkg.scripts.test!, /npm run build:electron/);
    assert.match(pkg.scripts['test:e2e']!, /build:renderer/);
    assert.ok(pkg.devDependencies.electron && pkg.devDependencies['electron-builder']);
    assert.equal(pkg.allowScripts.electron, false, 'the Electron binary is not downloaded at install here');
  });
});
