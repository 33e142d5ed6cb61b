/**
 * Reports over the loaded data: one learner's courses, a course's roster, a course's activity (with
 * a chart), a program's eligibility for the capstone, and the learning-analytics export. Each shows
 * the same columns as `pds query … --csv` (core/contract/report-tables.ts) and downloads them as CSV.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { ROSTER_STATUSES, type ActivityReport, type LearnerExport, type LearnerReport, type ProgramReport, type RosterReport, type RosterStatus } from '../../core/contract/report-schemas.js';
import { activityTable, exportTable, learnerTable, programTable, rosterTable, toCsv, type Cell, type ReportTable } from '../../core/contract/report-tables.js';
import { api } from '../api/client.js';
import { download } from '../report/csv.js';
import { useApp } from '../common/app-context.js';
import { count } from '../common/format.js';
import { useCall } from '../common/use-call.js';
import { DataTable, type Column } from '../common/data-table.js';
import { Empty, ErrorNote, Field, Loading, NeedEnvironment, ScreenHeader, SelectField, Stats } from '../common/ui.js';
import { ActivityChart } from './activity-chart.js';

const KINDS = [
  { id: 'learner', label: 'Learner' },
  { id: 'roster', label: 'Roster' },
  { id: 'activity', label: 'Course activity' },
  { id: 'program', label: 'Program' },
  { id: 'export', label: 'Learning-analytics export' },
] as const;
type Kind = (typeof KINDS)[number]['id'];
const SHOWN_ROWS = 500;

type Result =
  | { kind: 'learner'; report: LearnerReport }
  | { kind: 'roster'; report: RosterReport }
  | { kind: 'activity'; report: ActivityReport }
  | { kind: 'program'; report: ProgramReport }
  | { kind: 'export'; report: LearnerExport };

function cellText(value: Cell): string {
  if (value === null || value === '') return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return Number.isInteger(value) ? count(value) : value.toFixed(2);
  return value;
}

/** A report's table with its CSV download. */
function ReportTableView({ table, filename, caption, empty }: { table: ReportTable; filename: string; caption: string; empty: string }) {
  if (table.rows.length === 0) return <Empty title={empty} />;
  const numeric = table.columns.map((_, i) => table.rows.every((r) => r[i] === null || typeof r[i] === 'number'));
  // A program's report can hold 100,000 learners: the page shows the first rows, the CSV has all.
  const shown = table.rows.slice(0, SHOWN_ROWS);
  return (
    <section className="card">
      <div className="run-line">
        <h2 className="section-title">{caption}</h2>
        <button type="button" className="button" onClick={() => download(filename, toCsv(table))}>
          Download CSV
        </button>
      </div>
      <DataTable
        columns={table.columns.map(
          (c, i): Column<Cell[]> => ({
            header: c.replace(/_/g, ' '),
            key: c,
            num: numeric[i],
            // Dates stay on one line; other text wraps.
            className: numeric[i] ? undefined : (r) => (typeof r[i] === 'string' && /^\d{4}-\d{2}-\d{2}/.test(r[i] as string) ? 'nowrap' : 'wrap'),
            cell: (r) => cellText(r[i] ?? null),
          }),
        )}
        rows={shown}
        rowKey={(_, ri) => ri}
      />
      {shown.length < table.rows.length && <p className="muted">{`The first ${count(shown.length)} of ${count(table.rows.length)} rows; the CSV holds every row.`}</p>}
    </section>
  );
}

const slug = (s: string): string => s.replace(/[^A-Za-z0-9._+-]+/g, '_');

function ResultView({ result }: { result: Result }) {
  switch (result.kind) {
    case 'learner': {
      const who = result.report.learners.map((l) => `user ${l.userId} (${l.usernames.join(', ')})`).join('; ');
      return <ReportTableView table={learnerTable(result.report)} filename={`learner-${result.report.learners[0]?.userId ?? 'report'}.csv`} caption={`Courses of ${who}`} empty="No enrolment for this learner" />;
    }
    case 'roster':
      return (
        <ReportTableView
          table={rosterTable(result.report)}
          filename={`roster-${slug(result.report.course.courseKey)}.csv`}
          caption={`${result.report.course.courseId}: ${count(result.report.rows.length)} learners`}
          empty="No learner matches"
        />
      );
    case 'activity':
      return (
        <>
          {result.report.rows.length > 0 && (
            <section className="card">
              <h2 className="section-title">{`${result.report.course.courseId}, ${result.report.from} to ${result.report.to}, by ${result.report.by}`}</h2>
              <ActivityChart rows={result.report.rows} by={result.report.by} />
            </section>
          )}
          <ReportTableView
            table={activityTable(result.report)}
            filename={`activity-${slug(result.report.course.courseKey)}-${result.report.by}.csv`}
            caption="Activity"
            empty={`No activity from ${result.report.from} to ${result.report.to}`}
          />
        </>
      );
    case 'program':
      return (
        <>
          <Stats
            items={[
              ['Learners', count(result.report.learners)],
              ['Eligible for the capstone', count(result.report.eligible)],
              ['Current version', result.report.currentVersion],
            ]}
          />
          <ReportTableView
            table={programTable(result.report)}
            filename={`program-${slug(result.report.program.name)}.csv`}
            caption={result.report.program.title ?? result.report.program.name}
            empty="No learner to show"
          />
        </>
      );
    case 'export':
      return <ReportTableView table={exportTable(result.report)} filename={result.report.filename} caption={`${count(result.report.rows.length)} rows, columns as documented (docs/exports.md)`} empty="No learner to export" />;
  }
}

function Form({ label, onSubmit, children }: { label: string; onSubmit: () => void; children: ReactNode }) {
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit();
  };
  return (
    <form className="filters" onSubmit={submit} aria-label={label}>
      {children}
      <button type="submit" className="button button-primary">
        Show
      </button>
    </form>
  );
}

export function ReportsScreen() {
  const { env, route, go } = useApp();
  const kind: Kind = (KINDS.find((k) => k.id === route.params[0])?.id ?? 'learner') as Kind;
  const [learner, setLearner] = useState('');
  const [course, setCourse] = useState('');
  const [modes, setModes] = useState('');
  const [status, setStatus] = useState<RosterStatus | ''>('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [by, setBy] = useState<'day' | 'week'>('week');
  const [program, setProgram] = useState('');
  const [eligibleOnly, setEligibleOnly] = useState(false);
  const [exportOf, setExportOf] = useState<'course' | 'program'>('course');
  const [state, setState] = useState<{ loading: boolean; error?: unknown; result?: Result }>({ loading: false });
  const programs = useCall(() => api.listPrograms({ env: env! }), [env], env !== null);
  if (!env) return <NeedEnvironment />;
  const chosenProgram = program || programs.data?.[0]?.name || '';

  const run = (fn: () => Promise<Result>) => {
    setState({ loading: true });
    fn().then(
      (result) => setState({ loading: false, result }),
      (error: unknown) => setState({ loading: false, error }),
    );
  };
  const courseField = (
    <Field label="Course" help="Course id or course key, e.g. MITx-6.86x-1T2026">
      {(p) => <input {...p} required value={course} placeholder="course-v1:Org+Course+Run" onChange={(e) => setCourse(e.target.value)} />}
    </Field>
  );
  const programField = (
    <Field label="Program">
      {(p) =>
        (programs.data?.length ?? 0) === 0 ? (
          <input {...p} readOnly value="" placeholder="no program defined" />
        ) : (
          <select {...p} value={chosenProgram} onChange={(e) => setProgram(e.target.value)}>
            {programs.data!.map((pr) => (
              <option key={pr.name} value={pr.name}>
                {pr.title ? `${pr.title} (${pr.name})` : pr.name}
              </option>
            ))}
          </select>
        )
      }
    </Field>
  );

  return (
    <section>
      <ScreenHeader title={`Reports · ${env}`} />
      <nav className="pills tabs" aria-label="Reports">
        {KINDS.map((k) => (
          <button
            key={k.id}
            type="button"
            className={k.id === kind ? 'button button-primary' : 'button'}
            aria-current={k.id === kind ? 'page' : undefined}
            onClick={() => {
              setState({ loading: false });
              go('reports', k.id);
            }}
          >
            {k.label}
          </button>
        ))}
      </nav>
      {kind === 'learner' && (
        <Form label="Find a learner" onSubmit={() => run(async () => ({ kind: 'learner', report: await api.queryLearner({ env, learner: learner.trim() }) }))}>
          <Field label="Learner" help="Username, e-mail address or user id">
            {(p) => <input {...p} required value={learner} onChange={(e) => setLearner(e.target.value)} />}
          </Field>
        </Form>
      )}
      {kind === 'roster' && (
        <Form
          label="Course roster"
          onSubmit={() =>
            run(async () => ({
              kind: 'roster',
              report: await api.queryRoster({ env, course: course.trim(), modes: modes.split(',').map((m) => m.trim()).filter(Boolean), statuses: status ? [status] : undefined }),
            }))
          }
        >
          {courseField}
          <Field label="Modes" help="Comma-separated, e.g. verified, audit">
            {(p) => <input {...p} value={modes} onChange={(e) => setModes(e.target.value)} />}
          </Field>
          <SelectField label="Status" value={status} any="any" options={ROSTER_STATUSES.map((v) => [v, v] as const)} onChange={setStatus} />
        </Form>
      )}
      {kind === 'activity' && (
        <Form label="Course activity" onSubmit={() => run(async () => ({ kind: 'activity', report: await api.queryActivity({ env, course: course.trim(), from: from || undefined, to: to || undefined, by }) }))}>
          {courseField}
          <Field label="From">{(p) => <input {...p} type="date" value={from} onChange={(e) => setFrom(e.target.value)} />}</Field>
          <Field label="To">{(p) => <input {...p} type="date" value={to} onChange={(e) => setTo(e.target.value)} />}</Field>
          <SelectField
            label="Per"
            value={by}
            options={[
              ['day', 'day'],
              ['week', 'week (from Monday)'],
            ]}
            onChange={(v) => setBy(v || 'week')}
          />
        </Form>
      )}
      {kind === 'program' && (
        <Form label="Program eligibility" onSubmit={() => run(async () => ({ kind: 'program', report: await api.queryProgram({ env, program: chosenProgram, eligibleOnly }) }))}>
          {programField}
          <div className="field field-check">
            <label>
              <input type="checkbox" checked={eligibleOnly} onChange={(e) => setEligibleOnly(e.target.checked)} />
              Eligible learners only
            </label>
          </div>
        </Form>
      )}
      {kind === 'export' && (
        <Form
          label="Learning-analytics export"
          onSubmit={() =>
            run(async () => ({
              kind: 'export',
              report: await api.exportLearners(exportOf === 'course' ? { env, course: course.trim() } : { env, program: chosenProgram }),
            }))
          }
        >
          <SelectField
            label="Export"
            value={exportOf}
            options={[
              ['course', 'one course'],
              ['program', 'every run of a program'],
            ]}
            onChange={(v) => setExportOf(v || 'course')}
          />
          {exportOf === 'course' ? courseField : programField}
        </Form>
      )}
      {programs.error !== undefined && (kind === 'program' || kind === 'export') && <ErrorNote error={programs.error} />}
      {state.loading ? <Loading what="the report" /> : state.error !== undefined ? <ErrorNote error={state.error} /> : state.result ? <ResultView result={state.result} /> : null}
    </section>
  );
}
