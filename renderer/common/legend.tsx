/** A chart's legend: a swatch in the series' colour, its name in words and a muted note (never colour alone). */
import type { ReactNode } from 'react';

/** How many series colours the stylesheet defines (`.series-0` … `.series-7`). */
export const SERIES_COLOURS = 8;

export function Legend({ items }: { items: readonly { key: string; label: ReactNode; note: string }[] }) {
  return (
    <figcaption>
      <ul className="legend">
        {items.map((item, i) => (
          <li key={item.key}>
            <span className={`legend-swatch series-${i % SERIES_COLOURS}`} aria-hidden="true" />
            {item.label} <span className="muted">{item.note}</span>
          </li>
        ))}
      </ul>
    </figcaption>
  );
}
