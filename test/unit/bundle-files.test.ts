/**
 * The console bundle's paths and content types (core/contract/bundle-files.ts), shared by
 * `pds serve` and the desktop app's app:// protocol.
 */
import assert from 'node:assert/strict';
import { extname } from 'node:path';
import { describe, test } from 'node:test';
import { bundleContentType, bundleRelativePath } from '../../core/contract/bundle-files.js';

describe('console bundle files', () => {
  test('a request path names a path inside the bundle, or nothing when it could lead elsewhere', () => {
    assert.equal(bundleRelativePath('/'), '');
    assert.equal(bundleRelativePath(''), '');
    assert.equal(bundleRelativePath('/index.html'), 'index.html');
    assert.equal(bundleRelativePath('/assets/logo.svg'), 'assets/logo.svg');
    assert.equal(bundleRelativePath('/runs/live'), 'runs/live');
    assert.equal(bundleRelativePath('/a..b.js'), 'a..b.js');
    for (const bad of ['/../secret.txt', '/assets/../../secret.txt', '/..', '/a/../b', '/..\\secret.txt', '/\0index.html', '//etc/passwd', '/assets//x']) {
      assert.equal(bundleRelativePath(bad), undefined, JSON.stringify(bad));
    }
  });

  test('content types by extension, as node:path reads it; unknown ones are octet-stream', () => {
    assert.equal(bundleContentType('/srv/dist/renderer/index.html'), 'text/html; charset=utf-8');
    assert.equal(bundleContentType('app.JS'), 'text/javascript; charset=utf-8');
    assert.equal(bundleContentType('assets/logo.svg'), 'image/svg+xml');
    assert.equal(bundleContentType('app.js.map'), 'application/json; charset=utf-8');
    for (const name of ['.html', 'html', 'a.html/x', 'x.', 'archive.tar.gz', 'folder.css/file']) {
      const expected = extname(name) === '.html' ? 'text/html; charset=utf-8' : extname(name) === '.css' ? 'text/css; charset=utf-8' : 'application/octet-stream';
      assert.equal(bundleContentType(name), expected, name);
    }
  });
});
