/**
 * Programs in config.yaml (`programs:` per environment): what is accepted, and each mistake worded
 * plainly with its path and an example.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { environmentSchema } from '../../core/config/config-schema.js';
import { environmentIssues } from '../../core/config/config-store.js';
import { judgeLearner } from '../../core/reports/program-report.js';

const base = { source: { type: 'local', path: '/data' } };
const program = {
  name: 'sds',
  modules: { prob: ['MITx-6.431x-1T2026', 'MITx-6.431x-3T2026'], stats: ['MITx-18.6501x-1T2026'], ml: ['MITx-6.86x-1T2026'] },
  versions: [{ from: '2026-01-01', core: ['prob'], electives: ['stats', 'ml'], electivesRequired: 1 }],
};

describe('programs in the config', () => {
  test('a program with defaults: pass rule certificate in verified mode', () => {
    const env = environmentSchema.parse({ ...base, programs: [program] });
    assert.deepEqual(env.programs?.[0]?.pass, { rule: 'certificate', modes: ['verified'] });
    assert.equal(environmentSchema.parse(base).programs, undefined);
  });

  test('each mistake names its place, in plain words, with an example', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...program, versions: [{ from: '2026-01-01', core: ['prob', 'econ'] }] }, 'programs.0.versions.0.core.1', /names module econ, which is not under modules \(prob, stats, ml\)/],
      [{ ...program, versions: [{ from: '2026-01-01', electives: ['ml'], electivesRequired: 2 }] }, 'programs.0.versions.0.electivesRequired', /electivesRequired is more than the electives listed/],
      [{ ...program, versions: [{ from: '2026-01-01', core: ['prob'] }, { from: '2025-01-01', core: ['prob'] }] }, 'programs.0.versions.1.from', /oldest first/],
      [{ ...program, modules: { ...program.modules, ml: ['MITx-6.431x-1T2026'] } }, 'programs.0.modules.ml', /also a run of module prob/],
      [{ ...program, modules: { prob: ['course-v1:MITx+6.431x+1T2026'] } }, 'programs.0.modules.prob.0', /course key as in the weekly file names/],
      [{ ...program, pass: { rule: 'sometimes' } }, 'programs.0.pass.rule', /certificate, grade or either/],
      [{ ...program, versions: [] }, 'programs.0.versions', /at least one version/],
      [{ ...program, versions: [{ from: 'January', core: ['prob'] }] }, 'programs.0.versions.0.from', /a date like 2026-01-31/],
    ];
    for (const [p, path, message] of cases) {
      const issues = environmentIssues({ ...base, programs: [p] });
      const issue = issues.find((i) => i.path === path);
      assert.ok(issue, `${path}: ${JSON.stringify(issues)}`);
      assert.match(issue.message, message);
      assert.match(issue.example ?? '', /programs: \[\{ name: sds/);
    }
    const twice = environmentIssues({ ...base, programs: [program, program] });
    assert.match(twice[0]?.message ?? '', /two programs have the same name/);
  });

  test('eligibility: the newest version met in time, else the current one', () => {
    const p = environmentSchema.parse({
      ...base,
      programs: [
        {
          ...program,
          versions: [
            { from: '2025-01-01', core: ['prob', 'stats'] },
            { from: '2026-01-01', core: ['prob', 'ml'] },
          ],
        },
      ],
    }).programs![0]!;
    const pass = (courseKey: string, at: string) => ({ courseKey, at, via: 'certificate' as const });
    const passes = new Map([
      ['prob', [pass('MITx-6.431x-1T2026', '2025-06-01 00:00:00')]],
      ['stats', [pass('MITx-18.6501x-1T2026', '2025-12-31 23:59:59')]],
    ]);
    assert.deepEqual([judgeLearner(p, passes, '2026-06-01').eligible, judgeLearner(p, passes, '2026-06-01').version], [true, '2025-01-01']);
    passes.set('stats', [pass('MITx-18.6501x-1T2026', '2026-01-01 00:00:00')]);
    const late = judgeLearner(p, passes, '2026-06-01');
    assert.deepEqual([late.eligible, late.version, late.remaining], [false, '2026-01-01', ['ml']]);
    // Before the new version starts, the old one is current.
    assert.deepEqual([judgeLearner(p, passes, '2025-12-01').eligible, judgeLearner(p, passes, '2025-12-01').version], [true, '2025-01-01']);
  });
});
