/**
 * Events per day per course, drawn as SVG lines (no chart library: a few dozen lines of SVG bundle
 * smaller than any, and presentation attributes need no inline style under the CSP). Colours come
 * from CSS classes so both themes apply; every series is also named in the legend, and the same
 * figures are available as a table.
 */
import { useMemo } from 'react';
import { count, localDate } from '../shared/format.js';

export interface DayPoint {
  day: string;
  courseId: string;
  events: number;
}

const W = 760;
const H = 240;
const PAD = { left: 56, right: 16, top: 12, bottom: 28 };
const SERIES = 8;

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v) ?? v;
}

export function EventsChart({ points }: { points: DayPoint[] }) {
  const { days, courses, max } = useMemo(() => {
    const days = [...new Set(points.map((p) => p.day))].sort();
    const byCourse = new Map<string, Map<string, number>>();
    for (const p of points) {
      const m = byCourse.get(p.courseId) ?? new Map<string, number>();
      m.set(p.day, (m.get(p.day) ?? 0) + p.events);
      byCourse.set(p.courseId, m);
    }
    const courses = [...byCourse.entries()]
      .map(([courseId, m]) => ({ courseId, perDay: m, total: [...m.values()].reduce((a, b) => a + b, 0) }))
      .sort((a, b) => b.total - a.total);
    const max = niceMax(Math.max(0, ...points.map((p) => p.events)));
    return { days, courses, max };
  }, [points]);

  const x = (i: number) => PAD.left + (days.length <= 1 ? (W - PAD.left - PAD.right) / 2 : (i * (W - PAD.left - PAD.right)) / (days.length - 1));
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => t * max);
  const labelEvery = Math.max(1, Math.ceil(days.length / 8));

  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Events per day for ${courses.length} courses from ${days[0] ?? ''} to ${days[days.length - 1] ?? ''}`}>
        {ticks.map((t) => (
          <g key={t}>
            <line className="chart-grid" x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text className="chart-axis" x={PAD.left - 8} y={y(t) + 4} textAnchor="end">
              {count(Math.round(t))}
            </text>
          </g>
        ))}
        {days.map((d, i) =>
          i % labelEvery === 0 || i === days.length - 1 ? (
            <text key={d} className="chart-axis" x={x(i)} y={H - 8} textAnchor="middle">
              {d.slice(5)}
            </text>
          ) : null,
        )}
        {courses.map((c, ci) => {
          const path = days.map((d, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(c.perDay.get(d) ?? 0).toFixed(1)}`).join(' ');
          return (
            <g key={c.courseId} className={`series series-${ci % SERIES}`}>
              <path d={path} className="chart-line" fill="none" />
              {days.map((d, i) => (
                <circle key={d} cx={x(i)} cy={y(c.perDay.get(d) ?? 0)} r={3} className="chart-dot">
                  <title>{`${c.courseId}, ${localDate(`${d}T12:00:00Z`)} (UTC day): ${count(c.perDay.get(d) ?? 0)} events`}</title>
                </circle>
              ))}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul className="legend">
          {courses.map((c, ci) => (
            <li key={c.courseId}>
              <span className={`legend-swatch series-${ci % SERIES}`} aria-hidden="true" />
              <span className="wrap">{c.courseId}</span> <span className="muted">{count(c.total)}</span>
            </li>
          ))}
        </ul>
      </figcaption>
      <details className="chart-table">
        <summary>Show the figures as a table</summary>
        <div className="table-wrap table-wrap-short">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                {courses.map((c) => (
                  <th key={c.courseId} scope="col" className="num">
                    {c.courseId}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr key={d}>
                  <td>{d}</td>
                  {courses.map((c) => (
                    <td key={c.courseId} className="num">
                      {count(c.perDay.get(d) ?? 0)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
