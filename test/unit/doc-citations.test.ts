/**
 * Code comments, READMEs and messages cite the project's own pages as `docs/edx-formats.md §7.9` or
 * `docs/architecture.md §3.4`. Every such citation must name a section the page has, so renumbering a
 * page (or citing a section that was never written) fails here instead of leaving dead pointers.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGES = ['edx-formats.md', 'architecture.md'] as const;

/**
 * Section numbers a page defines: numbered headings (`## 7. …`, `### 4.1 …`) and the numbered
 * items of a section without sub-headings (`## 7.` item `9.` → `7.9`; `## 3.` step `4.` → `3.4`).
 */
function sectionsOf(page: string): Set<string> {
  const sections = new Set<string>();
  let current: string | undefined;
  let hasSubheadings = false;
  const items: string[] = [];
  const flush = (): void => {
    if (current !== undefined && !hasSubheadings) for (const n of items) sections.add(`${current}.${n}`);
    items.length = 0;
  };
  for (const line of readFileSync(join(ROOT, 'docs', page), 'utf8').split('\n')) {
    const top = /^## (\d+)\. /.exec(line);
    if (top || /^## /.test(line)) {
      flush();
      current = top?.[1];
      hasSubheadings = false;
      if (current !== undefined) sections.add(current);
      continue;
    }
    const sub = /^### (\d+)\.(\d+) /.exec(line);
    if (sub) {
      sections.add(`${sub[1]}.${sub[2]}`);
      hasSubheadings = true;
      continue;
    }
    const item = /^(\d+)\. /.exec(line);
    if (item) items.push(item[1]);
  }
  flush();
  return sections;
}

/** Text files of the repository that may cite the pages (sources, READMEs, docs, scripts). */
function* citingFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* citingFiles(path);
    else if (/\.(ts|mjs|js|md|sh)$/.test(entry.name)) yield path;
  }
}

describe('citations of docs/edx-formats.md and docs/architecture.md', () => {
  test('every cited section exists', () => {
    const sections = new Map(PAGES.map((p) => [p, sectionsOf(p)]));
    const missing: string[] = [];
    let cited = 0;
    for (const path of ['core', 'build', 'bench', 'test', 'scripts', 'bin', 'README.md'].flatMap((d) => {
      const full = join(ROOT, d);
      return d.endsWith('.md') ? [full] : [...citingFiles(full)];
    })) {
      const lines = readFileSync(path, 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const m of line.matchAll(/docs\/(edx-formats\.md|architecture\.md)`?((?:(?!docs\/)[^)\n])*)/g)) {
          const page = m[1] as (typeof PAGES)[number];
          // The section list right after the page name: `§5.4, §7.9`, `§4.1–§4.7`, `§3 "Encoding"`.
          const refs = /^\s*((?:[,/–-]?\s*(?:and\s+)?§\d+(?:\.\d+)?(?:\s+"[^"]*")?(?:\s+[A-Z][a-z]+\b)?\s*)+)/.exec(m[2])?.[1] ?? '';
          for (const ref of refs.matchAll(/§(\d+(?:\.\d+)?)/g)) {
            cited++;
            if (!sections.get(page)!.has(ref[1])) missing.push(`${relative(ROOT, path)}:${i + 1}: docs/${page} §${ref[1]}`);
          }
        }
      });
    }
    assert.ok(cited > 50, `only ${cited} citations found: the scan is broken`);
    assert.deepEqual(missing, []);
  });
});
