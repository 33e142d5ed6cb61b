/**
 * Program eligibility (a MicroMasters, say): per learner, the modules passed (which run, when), the
 * modules remaining, and whether every core module and enough electives are passed — the capstone
 * question. A module has several runs (course keys, which may be renamed from run to run); passing
 * any run passes it, and a module passed twice counts once (its first pass). Learners are joined on
 * the user id, so a username changed between runs is one learner.
 *
 * Versions: a program's membership changes over time. Version i applies from its `from` day until
 * the next version's; a learner who met version i's requirements with passes dated before the next
 * version started stays eligible under version i. Otherwise the learner is judged by the current
 * version (the newest whose `from` is not in the future), counting every pass.
 */
import type { ProgramConfig } from '../config/config-schema.js';
import type { ProgramLearner, ProgramReport, ProgramSummary } from '../contract/report-schemas.js';
import { ConfigError } from '../errors/index.js';
import type { ReportQueries } from '../stores/ports.js';
import { REPORT_TABLES, compareText, numberOf, placeholders, requireTables, run, textOf, timeOf } from './report-sql.js';

interface Pass {
  courseKey: string;
  at: string | null;
  via: 'certificate' | 'grade';
}

/** The program named `name` among an environment's programs, or PROGRAM_UNKNOWN listing them. */
export function findProgram(programs: readonly ProgramConfig[], name: string, env: string): ProgramConfig {
  const found = programs.find((p) => p.name === name) ?? programs.find((p) => p.name.toLowerCase() === name.toLowerCase());
  if (found) return found;
  throw new ConfigError(
    programs.length === 0
      ? `Environment ${env} defines no programs, so there is no program "${name}".`
      : `Environment ${env} has no program "${name}"; its programs are ${programs.map((p) => p.name).join(', ')}.`,
    { code: 'PROGRAM_UNKNOWN', path: `environments.${env}.programs`, hint: 'Programs are defined under programs: in config.yaml (README "Programs").' },
  );
}

export function programSummary(p: ProgramConfig): ProgramSummary {
  return { name: p.name, ...(p.title ? { title: p.title } : {}), modules: p.modules, pass: p.pass, versions: p.versions };
}

/** The index of the version in force on `today` (the newest not in the future; the first if all are). */
export function currentVersionIndex(p: ProgramConfig, today: string): number {
  let current = 0;
  p.versions.forEach((v, i) => {
    if (v.from <= today) current = i;
  });
  return current;
}

/** Every run (course key) of the program's modules, and the module of each. */
export function programRuns(p: ProgramConfig): Map<string, string> {
  const runs = new Map<string, string>();
  for (const [module, keys] of Object.entries(p.modules)) for (const k of keys) runs.set(k, module);
  return runs;
}

/** The SQL the program report runs (exported for the benchmark). */
export function programSql(runs: number, certificateModes: number): Record<'learners' | 'usernames' | 'certificates' | 'grades', string> {
  return {
    learners: `SELECT DISTINCT user_id FROM student_courseenrollment WHERE course_key IN (${placeholders(runs)})`,
    usernames: `SELECT id, username, snapshot_date FROM auth_user WHERE course_key IN (${placeholders(runs)})`,
    certificates: `SELECT user_id, course_key, created_date FROM certificates_generatedcertificate WHERE course_key IN (${placeholders(runs)}) AND status = 'downloadable' AND mode IN (${placeholders(certificateModes)})`,
    grades: `SELECT user_id, course_key, passed_timestamp FROM grades_persistentcoursegrade WHERE course_key IN (${placeholders(runs)}) AND passed_timestamp IS NOT NULL`,
  };
}

/** Judges one learner's passes (by module, first first) against the program. */
export function judgeLearner(p: ProgramConfig, passes: Map<string, Pass[]>, today: string): Omit<ProgramLearner, 'userId' | 'username'> {
  const judge = (index: number, until: string | undefined) => {
    const v = p.versions[index]!;
    const inTime = (module: string): Pass[] => (passes.get(module) ?? []).filter((x) => until === undefined || x.at === null || x.at.slice(0, 10) < until);
    const core = v.core.filter((m) => inTime(m).length > 0);
    const electives = v.electives.filter((m) => inTime(m).length > 0);
    const eligible = core.length === v.core.length && electives.length >= v.electivesRequired;
    return { v, core, electives, eligible, inTime };
  };
  let chosen: ReturnType<typeof judge> | undefined;
  for (let i = p.versions.length - 1; i >= 0 && !chosen; i--) {
    if (p.versions[i]!.from > today) continue;
    const j = judge(i, p.versions[i + 1]?.from);
    if (j.eligible) chosen = j;
  }
  chosen ??= judge(currentVersionIndex(p, today), undefined);
  const { v, core, electives, eligible, inTime } = chosen;
  const passed = [...core.map((m) => [m, 'core'] as const), ...electives.map((m) => [m, 'elective'] as const)].map(([module, kind]) => {
    const first = inTime(module)[0]!;
    return { module, kind, courseKey: first.courseKey, passedAt: first.at, via: first.via, runsPassed: [...new Set((passes.get(module) ?? []).map((x) => x.courseKey))] };
  });
  const remaining = v.core.filter((m) => !core.includes(m));
  const missingElectives = v.electivesRequired - electives.length;
  if (missingElectives > 0) remaining.push(`${missingElectives} more of: ${v.electives.filter((m) => !electives.includes(m)).join(', ')}`);
  return {
    eligible,
    version: v.from,
    corePassed: core.length,
    coreRequired: v.core.length,
    electivesPassed: electives.length,
    electivesRequired: v.electivesRequired,
    passed,
    remaining,
  };
}

export interface ProgramReportOptions {
  /** Only the eligible learners. */
  eligibleOnly?: boolean;
  /** `YYYY-MM-DD`: which version is current (default: today, UTC). */
  today?: string;
}

/** Every learner enrolled in a run of the program's modules, judged against the program. */
export async function programReport(q: ReportQueries, program: ProgramConfig, options: ProgramReportOptions = {}): Promise<ProgramReport> {
  await requireTables(q, REPORT_TABLES);
  const today = options.today ?? new Date().toISOString().slice(0, 10);
  const runs = programRuns(program);
  const keys = [...runs.keys()];
  const modes = program.pass.modes;
  const sql = programSql(keys.length, modes.length);
  const [learnerRows, userRows, certificates, grades] = await Promise.all([
    run<{ user_id: unknown }>(q, 'program', sql.learners, keys),
    run<{ id: unknown; username: unknown; snapshot_date: unknown }>(q, 'program', sql.usernames, keys),
    program.pass.rule === 'grade' ? Promise.resolve([]) : run<{ user_id: unknown; course_key: unknown; created_date: unknown }>(q, 'program', sql.certificates, [...keys, ...modes]),
    program.pass.rule === 'certificate' ? Promise.resolve([]) : run<{ user_id: unknown; course_key: unknown; passed_timestamp: unknown }>(q, 'program', sql.grades, keys),
  ]);

  // The newest snapshot's username of each learner (auth_user of the program's runs).
  const usernames = new Map<number, { name: string | null; date: string }>();
  for (const r of userRows) {
    const id = numberOf(r.id);
    const date = String(r.snapshot_date ?? '');
    const had = usernames.get(id);
    const name = textOf(r.username);
    if (!had || date > had.date || (date === had.date && had.name === null)) usernames.set(id, { name, date });
  }
  const enrolled = new Set(learnerRows.map((r) => numberOf(r.user_id)));

  // Passes by learner and module: per run, the earliest of its certificate and grade.
  const byRun = new Map<number, Map<string, Pass>>();
  const add = (userId: number, courseKey: string, at: string | null, via: Pass['via']): void => {
    // MariaDB matches course keys ignoring case: keep the exact runs only, as SQLite does.
    if (!runs.has(courseKey)) return;
    let mine = byRun.get(userId);
    if (!mine) byRun.set(userId, (mine = new Map()));
    const had = mine.get(courseKey);
    if (!had || (at !== null && (had.at === null || at < had.at))) mine.set(courseKey, { courseKey, at, via });
  };
  for (const r of certificates) add(numberOf(r.user_id), String(r.course_key), timeOf(r.created_date), 'certificate');
  for (const r of grades) add(numberOf(r.user_id), String(r.course_key), timeOf(r.passed_timestamp), 'grade');

  const rows: ProgramLearner[] = [];
  for (const userId of new Set([...enrolled, ...byRun.keys()])) {
    const passes = new Map<string, Pass[]>();
    for (const pass of byRun.get(userId)?.values() ?? []) {
      const module = runs.get(pass.courseKey)!;
      passes.set(module, [...(passes.get(module) ?? []), pass]);
    }
    for (const list of passes.values()) list.sort((a, b) => compareText(a.at, b.at) || compareText(a.courseKey, b.courseKey));
    rows.push({ userId, username: usernames.get(userId)?.name ?? null, ...judgeLearner(program, passes, today) });
  }
  rows.sort((a, b) => compareText(a.username, b.username) || a.userId - b.userId);
  const eligible = rows.filter((r) => r.eligible).length;
  return {
    program: programSummary(program),
    currentVersion: program.versions[currentVersionIndex(program, today)]!.from,
    learners: rows.length,
    eligible,
    rows: options.eligibleOnly ? rows.filter((r) => r.eligible) : rows,
  };
}
