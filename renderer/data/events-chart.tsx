/**
 * Events per day per course, drawn as SVG lines (no chart library: a few dozen lines of SVG bundle
 * smaller than any, and presentation attributes need no inline style under the CSP). Colours come
 * from CSS classes so both themes apply; every series is also named in the legend, and the same
 * figures are available as a table.
 */
import { useMemo } from 'react';
import { count, localDate } from '../common/format.js';
import { Legend, SERIES_COLOURS } from '../common/legend.js';

export interface DayPoint {
  day: string;
  courseId: string;
  events: number;
}

const W = 760;
const H = 240;
const PAD = { left: 56, right: 16, top: 12, bottom: 28 };

/** A step of 1, 2 or 5 × 10^k giving at most five grid lines up to `max`. */
function niceStep(max: number): number {
  if (max <= 0) return 1;
  const rough = max / 4;
  const p = 10 ** Math.floor(Math.log10(rough));
  return ([1, 2, 5, 10].map((m) => m * p).find((m) => m >= rough) ?? rough) || 1;
}

/** Every UTC day from `first` to `last`, so days without events show as 0 instead of vanishing. */
function everyDay(first: string, last: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${last}T00:00:00Z`);
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= end && out.length < 400; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

export function EventsChart({ points }: { points: DayPoint[] }) {
  const { days, courses, max, step } = useMemo(() => {
    const seen = [...new Set(points.map((p) => p.day))].sort();
    const days = seen.length > 0 ? everyDay(seen[0]!, seen[seen.length - 1]!) : [];
    const byCourse = new Map<string, Map<string, number>>();
    for (const p of points) {
      const m = byCourse.get(p.courseId) ?? new Map<string, number>();
      m.set(p.day, (m.get(p.day) ?? 0) + p.events);
      byCourse.set(p.courseId, m);
    }
    const courses = [...byCourse.entries()]
      .map(([courseId, m]) => ({ courseId, perDay: m, total: [...m.values()].reduce((a, b) => a + b, 0) }))
      .sort((a, b) => b.total - a.total);
    const top = Math.max(0, ...courses.flatMap((c) => [...c.perDay.values()]));
    const step = niceStep(top);
    const max = Math.max(step, Math.ceil(top / step) * step);
    return { days, courses, max, step };
  }, [points]);

  const x = (i: number) => PAD.left + (days.length <= 1 ? (W - PAD.left - PAD.right) / 2 : (i * (W - PAD.left - PAD.right)) / (days.length - 1));
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const ticks = Array.from({ length: Math.round(max / step) + 1 }, (_, i) => i * step);
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
            <g key={c.courseId} className={`series series-${ci % SERIES_COLOURS}`}>
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
      <Legend items={courses.map((c) => ({ key: c.courseId, label: <span className="wrap">{c.courseId}</span>, note: count(c.total) }))} />
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
