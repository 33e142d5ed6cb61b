/** What has landed: tables with rows and courses, events by type, and events per day per course. */
import { useState } from 'react';
import { api } from '../api/client.js';
import { href, useApp } from '../common/app-context.js';
import { count } from '../common/format.js';
import { useCall } from '../common/use-call.js';
import { Empty, ErrorNote, Field, Loading, NeedEnvironment, ScreenHeader } from '../common/ui.js';
import { EventsChart } from './events-chart.js';

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
        <Field label="Chart period">
          {(p) => (
            <select {...p} value={days} onChange={(e) => setDays(Number(e.target.value))}>
              <option value={7}>last 7 days</option>
              <option value={30}>last 30 days</option>
              <option value={90}>last 90 days</option>
              <option value={366}>last year</option>
            </select>
          )}
        </Field>
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
          <dl className="stats stats-big">
            <div>
              <dt>Table rows</dt>
              <dd>{count(rows)}</dd>
            </div>
            <div>
              <dt>Tables</dt>
              <dd>{count(data.tables.filter((t) => t.rows > 0).length)}</dd>
            </div>
            <div>
              <dt>Events</dt>
              <dd>{count(data.events.total)}</dd>
            </div>
            <div>
              <dt>Courses with events</dt>
              <dd>{count(data.events.courses)}</dd>
            </div>
          </dl>
          <section className="card">
            <h2 className="section-title">Events per day per course</h2>
            {data.eventsPerDay.length === 0 ? <p className="muted">No event in this period. Pick a longer period, or load the daily event logs.</p> : <EventsChart points={data.eventsPerDay} />}
          </section>
          <div className="two-col">
            <section className="card">
              <h2 className="section-title">Tables</h2>
              <div className="table-wrap table-wrap-short">
                <table className="table">
                  <thead>
                    <tr>
                      <th scope="col">Table</th>
                      <th scope="col">Group</th>
                      <th scope="col" className="num">
                        Rows
                      </th>
                      <th scope="col" className="num">
                        Courses
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {groups.flatMap((g) =>
                      data.tables
                        .filter((t) => t.group === g)
                        .map((t) => (
                          <tr key={t.table} className={t.rows === 0 ? 'row-empty' : undefined}>
                            <td>
                              <code className="code">{t.table}</code>
                            </td>
                            <td>{t.group}</td>
                            <td className="num">{count(t.rows)}</td>
                            <td className="num">{count(t.courses)}</td>
                          </tr>
                        )),
                    )}
                  </tbody>
                </table>
              </div>
            </section>
            <section className="card">
              <h2 className="section-title">Events by type</h2>
              {data.events.topTypes.length === 0 ? (
                <p className="muted">No event loaded yet.</p>
              ) : (
                <table className="table">
                  <thead>
                    <tr>
                      <th scope="col">Type</th>
                      <th scope="col" className="num">
                        Events
                      </th>
                      <th scope="col">
                        <span className="visually-hidden">Share</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.events.topTypes.map((t) => (
                      <tr key={t.type}>
                        <td className="wrap">
                          <code className="code">{t.type}</code>
                        </td>
                        <td className="num">{count(t.count)}</td>
                        <td className="bar-cell">
                          <meter min={0} max={topMax} value={t.count} aria-label={`${t.type}: ${count(t.count)} events`} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          </div>
        </>
      )}
    </section>
  );
}
