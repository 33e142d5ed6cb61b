/** What has landed: tables with rows and courses, events by type, and events per day per course. */
import { useState } from 'react';
import type { ResultOf } from '../../core/contract/methods.js';
import { api } from '../api/client.js';
import { href, useApp } from '../common/app-context.js';
import { count } from '../common/format.js';
import { useCall } from '../common/use-call.js';
import { DataTable, type Column } from '../common/data-table.js';
import { Empty, ErrorNote, Loading, NeedEnvironment, ScreenHeader, SelectField, Stats } from '../common/ui.js';
import { EventsChart } from './events-chart.js';

type TableRow = ResultOf<'getDataSummary'>['tables'][number];

const TABLE_COLUMNS: Column<TableRow>[] = [
  { header: 'Table', cell: (t) => <code className="code">{t.table}</code> },
  { header: 'Group', cell: (t) => t.group },
  { header: 'Rows', num: true, cell: (t) => count(t.rows) },
  { header: 'Courses', num: true, cell: (t) => count(t.courses) },
];

export function DataScreen() {
  const { env } = useApp();
  const [days, setDays] = useState(30);
  const summary = useCall(() => api.getDataSummary({ env: env!, days }), [env, days], env !== null);
  if (!env) return <NeedEnvironment />;
  const data = summary.data;
  const rows = data?.tables.reduce((n, t) => n + t.rows, 0) ?? 0;
  const groups = data ? [...new Set(data.tables.map((t) => t.group))] : [];
  const topMax = Math.max(1, ...(data?.events.topTypes.map((t) => t.count) ?? [1]));
  return (
    <section>
      <ScreenHeader title={`Data · ${env}`}>
        <SelectField
          label="Chart period"
          value={String(days)}
          options={[
            ['7', 'last 7 days'],
            ['30', 'last 30 days'],
            ['90', 'last 90 days'],
            ['366', 'last year'],
          ]}
          onChange={(v) => setDays(Number(v))}
        />
      </ScreenHeader>
      {summary.error !== undefined ? (
        <ErrorNote error={summary.error} />
      ) : !data ? (
        <Loading what="the data summary" />
      ) : rows === 0 && data.events.total === 0 ? (
        <Empty title="No data has landed yet">
          <p>
            Start a run from the <a href={href('run')}>Run</a> screen; tables and events appear here as files load.
          </p>
        </Empty>
      ) : (
        <>
          <Stats
            className="stats-big"
            items={[
              ['Table rows', count(rows)],
              ['Tables', count(data.tables.filter((t) => t.rows > 0).length)],
              ['Events', count(data.events.total)],
              ['Courses with events', count(data.events.courses)],
            ]}
          />
          <section className="card">
            <h2 className="section-title">Events per day per course</h2>
            {data.eventsPerDay.length === 0 ? <p className="muted">No event in this period. Pick a longer period, or load the daily event logs.</p> : <EventsChart points={data.eventsPerDay} />}
          </section>
          <div className="two-col">
            <section className="card">
              <h2 className="section-title">Tables</h2>
              <DataTable
                wrap="table-wrap table-wrap-short"
                columns={TABLE_COLUMNS}
                rows={groups.flatMap((g) => data.tables.filter((t) => t.group === g))}
                rowKey={(t) => t.table}
                rowClass={(t) => (t.rows === 0 ? 'row-empty' : undefined)}
              />
            </section>
            <section className="card">
              <h2 className="section-title">Events by type</h2>
              {data.events.topTypes.length === 0 ? (
                <p className="muted">No event loaded yet.</p>
              ) : (
                <DataTable
                  wrap={false}
                  columns={[
                    {
                      header: 'Type',
                      className: 'wrap',
                      cell: (t) => <code className="code">{t.type}</code>,
                    },
                    { header: 'Events', num: true, cell: (t) => count(t.count) },
                    {
                      header: <span className="visually-hidden">Share</span>,
                      key: 'share',
                      className: 'bar-cell',
                      cell: (t) => <meter min={0} max={topMax} value={t.count} aria-label={`${t.type}: ${count(t.count)} events`} />,
                    },
                  ]}
                  rows={data.events.topTypes}
                  rowKey={(t) => t.type}
                />
              )}
            </section>
          </div>
        </>
      )}
    </section>
  );
}
