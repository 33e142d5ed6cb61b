/** A test-connection answer in plain words: the one-line summary, then each step with its fix. */
import type { z } from 'zod';
import type { connectionCheckSchema } from '../../core/contract/methods.js';
import { Pill } from '../common/ui.js';

export type ConnectionCheck = z.output<typeof connectionCheckSchema>;

const TARGET_LABELS: Record<ConnectionCheck['target'], string> = { source: 'Source', key: 'Key', relational: 'Tables', events: 'Events' };

export function ConnectionCheckView({ check }: { check: ConnectionCheck }) {
  return (
    <div className={`check ${check.ok ? 'check-ok' : 'check-bad'}`} role="status" aria-label={`${TARGET_LABELS[check.target]} check`}>
      <div className="check-head">
        <Pill status={check.ok ? 'yes' : 'failed'} label={check.ok ? 'works' : 'failed'} />
        <strong>{TARGET_LABELS[check.target]}</strong>
        <span className="muted">{check.engine}</span>
      </div>
      <p className="check-summary">{check.summary}</p>
      {check.steps.length > 0 && (
        <ol className="check-steps">
          {check.steps.map((s, i) => (
            <li key={i} className={s.ok ? 'step-ok' : 'step-bad'}>
              <span className="step-mark">{s.ok ? 'ok' : 'failed'}</span>
              <span className="step-name">{s.name}</span>
              <span className="step-detail">{s.detail}</span>
              {s.fix && <span className="step-fix">{s.fix}</span>}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
