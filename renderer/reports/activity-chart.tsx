/**
 * A course's activity per day or week as grouped SVG bars (events, active learners, video plays,
 * problem attempts), each on its own scale share of the height so small series stay visible; the
 * figures are in the table below the chart. Colours come from the chart's CSS classes (both themes).
 */
import type { ActivityRow } from '../../core/contract/report-schemas.js';
import { count } from '../common/format.js';
import { Legend } from '../common/legend.js';

const W = 760;
const H = 220;
const PAD = { left: 16, right: 16, top: 12, bottom: 28 };
const SERIES = [
  { key: 'events', label: 'events' },
  { key: 'activeLearners', label: 'active learners' },
  { key: 'videoPlays', label: 'video plays' },
  { key: 'problemAttempts', label: 'problem attempts' },
] as const;

export function ActivityChart({ rows, by }: { rows: ActivityRow[]; by: 'day' | 'week' }) {
  const max = Object.fromEntries(SERIES.map((s) => [s.key, Math.max(1, ...rows.map((r) => r[s.key]))])) as Record<(typeof SERIES)[number]['key'], number>;
  const slot = (W - PAD.left - PAD.right) / Math.max(1, rows.length);
  const bar = Math.max(1, (slot * 0.8) / SERIES.length);
  const labelEvery = Math.max(1, Math.ceil(rows.length / 10));
  const h = H - PAD.top - PAD.bottom;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Activity per ${by}, ${rows.length} ${by}s: ${SERIES.map((s) => s.label).join(', ')}, each scaled to its own largest value`}>
        <line className="chart-grid" x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} />
        {rows.map((r, i) => (
          <g key={r.period}>
            {SERIES.map((s, si) => {
              const v = r[s.key];
              const height = (v / max[s.key]) * h;
              return (
                <g key={s.key} className={`series-${si}`}>
                  <rect className="chart-dot" x={PAD.left + i * slot + slot * 0.1 + si * bar} y={H - PAD.bottom - height} width={bar} height={height}>
                    <title>{`${r.period}: ${count(v)} ${s.label}`}</title>
                  </rect>
                </g>
              );
            })}
            {i % labelEvery === 0 && (
              <text className="chart-axis" x={PAD.left + i * slot + slot / 2} y={H - 8} textAnchor="middle">
                {r.period.slice(5)}
              </text>
            )}
          </g>
        ))}
      </svg>
      <Legend items={SERIES.map((s) => ({ key: s.key, label: s.label, note: `(largest ${count(max[s.key])})` }))} />
    </figure>
  );
}
