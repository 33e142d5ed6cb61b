/**
 * Data protection: the personal-data inventory of the environment (what is held where, its class,
 * the retention in force — the same data `pds docs privacy` writes), the erasure of one learner (a
 * dry run first, then a confirmation by typing the identifier again), and the audit log.
 * The identifier typed for an erasure is forgotten once the learner is erased: results name stores
 * and counts only, never the learner's values.
 */
import { Fragment, useState, type FormEvent } from 'react';
import type { AuditEntryData, ForgetResultData, PrivacyInventoryData } from '../../core/contract/privacy-schemas.js';
import { api } from '../api/client.js';
import { useApp } from '../common/app-context.js';
import { count, plural } from '../common/format.js';
import { useCall } from '../common/use-call.js';
import { DataTable, type Column } from '../common/data-table.js';
import { CallView, Empty, ErrorNote, Field, Loading, NeedEnvironment, Pager, Pill, RefreshButton, ScreenHeader, Time } from '../common/ui.js';
import { describeOptions } from '../runs/describe-options.js';

const TABS = [
  { id: 'inventory', label: 'Inventory' },
  { id: 'erase', label: 'Erase a learner' },
  { id: 'audit', label: 'Audit log' },
] as const;
type Tab = (typeof TABS)[number]['id'];

const CLASS_LABELS: Record<string, string> = {
  'direct-identifier': 'direct identifiers',
  'pseudonymous-id': 'pseudonymous ids',
  'quasi-identifier': 'quasi-identifiers',
  'free-text': 'free text',
  'not-personal': 'not personal',
};
const CLASS_TONES: Record<string, string> = { 'direct-identifier': 'bad', 'pseudonymous-id': 'warn', 'quasi-identifier': 'info', 'free-text': 'warn', 'not-personal': 'neutral' };

/** The inventory's texts carry `code` and **bold** spans (Markdown): shown as such, nothing else interpreted. */
function Text({ md }: { md: string }) {
  return (
    <>
      {md.split(/(`[^`]+`|\*\*[^*]+\*\*)/).map((part, i) =>
        part.startsWith('`') && part.endsWith('`') && part.length > 1 ? (
          <code key={i} className="code">
            {part.slice(1, -1)}
          </code>
        ) : part.startsWith('**') && part.endsWith('**') && part.length > 3 ? (
          <strong key={i}>{part.slice(2, -2)}</strong>
        ) : (
          part
        ),
      )}
    </>
  );
}

type Place = PrivacyInventoryData['places'][number];
const PLACE_COLUMNS: Column<Place>[] = (
  [
    ['Place', 'place'],
    ['What', 'what'],
    ['Personal data', 'personal'],
    ['Purpose', 'purpose'],
    ['Kept', 'kept'],
    ['Readable by', 'readableBy'],
  ] as const
).map(([header, field]) => ({ header, className: 'wrap', cell: (p: Place) => <Text md={p[field]} /> }));

const FIELD_COLUMNS: Column<PrivacyInventoryData['eventFields'][number]>[] = [
  { header: 'Field', rowHeader: true, cell: (f) => <code className="code">{f.field}</code> },
  { header: 'Class', cell: (f) => <Pill status={f.personal} label={CLASS_LABELS[f.personal]} tone={CLASS_TONES[f.personal]} /> },
  { header: 'Holds', className: 'wrap', cell: (f) => <Text md={f.doc} /> },
];

function InventoryView({ inventory }: { inventory: PrivacyInventoryData }) {
  const personal = inventory.classes.filter((c) => c.class !== 'not-personal');
  return (
    <>
      <section className="card">
        <h2 className="section-title">Where personal data is held</h2>
        <DataTable className="privacy-table" columns={PLACE_COLUMNS} rows={inventory.places} rowKey={(p) => p.place} />
      </section>
      <div className="two-col">
        <section className="card">
          <h2 className="section-title">Retention in force</h2>
          <ul className="plain-list">
            {inventory.retention.map((r) => (
              <li key={r.what}>
                <strong>{r.what}</strong>: <Text md={r.rule} />
              </li>
            ))}
          </ul>
        </section>
        <section className="card">
          <h2 className="section-title">Classes of data</h2>
          <dl className="facts">
            {inventory.classes.map((c) => (
              <Fragment key={c.class}>
                <dt>
                  <Pill status={c.class} label={CLASS_LABELS[c.class]} tone={CLASS_TONES[c.class]} />
                </dt>
                <dd>{c.meaning}</dd>
              </Fragment>
            ))}
          </dl>
        </section>
      </div>
      {inventory.tableGroups.map((g) => (
        <section className="card" key={g.title}>
          <h2 className="section-title">{g.title}</h2>
          <p className="card-sub">
            {g.purpose} Held in <Text md={g.tables[0]?.store ?? ''} />.
          </p>
          <DataTable
            className="privacy-table"
            columns={[
              { header: 'Table', rowHeader: true, cell: (t) => <code className="code">{t.name}</code> },
              ...personal.map(
                (c, i): Column<PrivacyInventoryData['tableGroups'][number]['tables'][number]> => ({
                  header: CLASS_LABELS[c.class],
                  className: 'wrap',
                  cell: (t) => (t.columns[i]!.names.length === 0 ? <span className="muted">—</span> : t.columns[i]!.names.join(', ')),
                }),
              ),
            ]}
            rows={g.tables}
            rowKey={(t) => t.name}
          />
        </section>
      ))}
      <section className="card">
        <h2 className="section-title">Fields of a tracking-log line</h2>
        <DataTable className="privacy-table" columns={FIELD_COLUMNS} rows={[...inventory.eventFields, ...inventory.eventDocumentFields]} rowKey={(f) => f.field} />
      </section>
    </>
  );
}

/** What an erasure removed, or would remove, per store and table. */
function StoreCounts({ result, caption }: { result: ForgetResultData; caption: string }) {
  const stores = result.stores.filter((s) => s.rows > 0);
  return (
    <DataTable
      caption={caption}
      columns={[
        { header: 'Store', cell: (s) => s.store },
        { header: 'Table, collection or file', cell: (s) => <code className="code">{s.target}</code> },
        { header: 'Rows', num: true, cell: (s) => count(s.rows) },
      ]}
      rows={stores}
      rowKey={(s) => `${s.store}/${s.target}`}
      foot={
        <tr>
          <th scope="row" colSpan={2}>
            Total
          </th>
          <td className="num">{count(result.totalRows)}</td>
        </tr>
      }
    />
  );
}

const MATCHED_BY: Record<ForgetResultData['matchedBy'], string> = { id: 'user id', username: 'username', email: 'e-mail address' };

type Erasure =
  | { step: 'form' }
  | { step: 'checking' }
  | { step: 'planned'; user: string; plan: ForgetResultData }
  | { step: 'erasing'; user: string; plan: ForgetResultData }
  | { step: 'erased'; result: ForgetResultData };

function EraseView({ env, onAudit }: { env: string; onAudit: () => void }) {
  const [user, setUser] = useState('');
  const [typed, setTyped] = useState('');
  const [state, setState] = useState<Erasure>({ step: 'form' });
  const [error, setError] = useState<unknown>();

  const dryRun = (e: FormEvent) => {
    e.preventDefault();
    const who = user.trim();
    setError(undefined);
    setTyped('');
    setState({ step: 'checking' });
    api.forgetLearner({ env, user: who, dryRun: true }).then(
      (plan) => setState({ step: 'planned', user: who, plan }),
      (err: unknown) => {
        setError(err);
        setState({ step: 'form' });
      },
    );
  };

  const erase = (e: FormEvent) => {
    e.preventDefault();
    if (state.step !== 'planned' || typed.trim() !== state.user) return;
    setError(undefined);
    setState({ step: 'erasing', user: state.user, plan: state.plan });
    api.forgetLearner({ env, user: state.user, dryRun: false }).then(
      (result) => {
        // The identifier is forgotten with the learner: nothing on screen names them any more.
        setUser('');
        setTyped('');
        setState({ step: 'erased', result });
      },
      (err: unknown) => {
        setError(err);
        setState({ step: 'planned', user: state.user, plan: state.plan });
      },
    );
  };

  const planned = state.step === 'planned' || state.step === 'erasing' ? state : undefined;
  return (
    <>
      <section className="card">
        <h2 className="section-title">Erase one learner</h2>
        <p className="card-sub">
          Removes the learner from every table, the events, the quarantine files and the exports under the home folder, and keeps them out of later loads. A dry run first shows what
          would be removed.
        </p>
        <form className="filters" onSubmit={dryRun} aria-label="Erasure dry run">
          <Field label="Learner" help="Username, e-mail address or user id">
            {(p) => (
              <input
                {...p}
                type="text"
                required
                autoComplete="off"
                value={user}
                onChange={(e) => {
                  setUser(e.target.value);
                  if (state.step === 'planned' || state.step === 'erased') setState({ step: 'form' });
                }}
              />
            )}
          </Field>
          <button type="submit" className="button button-primary" disabled={state.step === 'checking' || state.step === 'erasing'}>
            Dry run
          </button>
        </form>
      </section>
      {error !== undefined && <ErrorNote error={error} />}
      {state.step === 'checking' && <Loading what="what would be removed" />}
      {planned && (
        <section className="card" aria-label="Dry run result">
          <h2 className="section-title">
            {planned.plan.alreadyErased
              ? 'Already erased: nothing of this learner is left'
              : planned.plan.totalRows === 0
                ? 'Nothing to remove'
                : `Would remove ${plural(planned.plan.totalRows, 'row')}`}
          </h2>
          <p className="card-sub">{`Matched by ${MATCHED_BY[planned.plan.matchedBy]}.${planned.plan.totalRows > 0 ? ' Nothing has been removed yet.' : ''}`}</p>
          {planned.plan.totalRows > 0 && (
            <>
              <StoreCounts result={planned.plan} caption="What the erasure would remove" />
              <form className="confirm confirm-box" onSubmit={erase} aria-label="Confirm the erasure">
                <p>Erasure cannot be undone. Type the identifier you entered again to confirm.</p>
                <Field label="Type the identifier to confirm">
                  {(p) => <input {...p} type="text" autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />}
                </Field>
                <button type="submit" className="button button-danger" disabled={typed.trim() !== planned.user || state.step === 'erasing'}>
                  {state.step === 'erasing' ? 'Erasing…' : 'Erase the learner'}
                </button>
              </form>
            </>
          )}
        </section>
      )}
      {state.step === 'erased' && (
        <section className="card" aria-label="Erasure result">
          <div className="note note-ok" role="status">
            <p className="note-message">
              {state.result.alreadyErased
                ? 'The learner was already erased; nothing was left to remove.'
                : `Erased: ${plural(state.result.totalRows, 'row')} removed from ${plural(state.result.stores.filter((s) => s.rows > 0).length, 'place')}.`}
            </p>
            {state.result.erasureId && (
              <p className="note-hint">
                Ledger record <code className="code">{state.result.erasureId}</code>: when, by whom and how many rows, with the erased ids only as keyed hashes.
              </p>
            )}
            <div className="note-foot">
              <button type="button" className="button" onClick={onAudit}>
                Show the audit log
              </button>
            </div>
          </div>
          {state.result.totalRows > 0 && <StoreCounts result={state.result} caption="What the erasure removed" />}
        </section>
      )}
    </>
  );
}

function detailText(entry: AuditEntryData): string {
  const d = entry.detail;
  if (entry.action === 'run' && d.options && typeof d.options === 'object') {
    return [d.status, describeOptions(d.options as Parameters<typeof describeOptions>[0])].filter(Boolean).join(', ');
  }
  return Object.entries(d)
    .filter(([k, v]) => k !== 'env' && v !== undefined && v !== null)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('; ');
}

const AUDIT_PAGE = 25;
/** The newest entries the screen reads; the log is paged here, newest first. */
const AUDIT_READ = 5000;

function AuditView({ env }: { env: string }) {
  const [offset, setOffset] = useState(0);
  const audit = useCall(() => api.listAudit({ env, limit: AUDIT_READ }), [env]);
  return (
    <section className="card">
      <div className="run-line">
        <h2 className="section-title">Audit log</h2>
        <RefreshButton call={audit} />
      </div>
      <CallView call={audit} what="the audit log">
        {(data) =>
          data.length === 0 ? (
            <Empty title="Nothing recorded yet">
              <p>Runs, exports, queries of personal data, erasures, purges and changes to the configuration or the keys are listed here as they happen.</p>
            </Empty>
          ) : (
            <>
              <DataTable
                columns={[
                  { header: 'When', className: 'nowrap', cell: (e) => <Time iso={e.at} /> },
                  { header: 'Who', cell: (e) => e.actor },
                  { header: 'What', cell: (e) => e.action },
                  { header: 'Details', className: 'wrap', cell: detailText },
                ]}
                rows={data.slice(offset, offset + AUDIT_PAGE)}
                rowKey={(e) => `${e.action}-${e.seq}-${e.at}`}
              />
              <Pager offset={offset} limit={AUDIT_PAGE} total={data.length} onChange={setOffset} what="entries" />
            </>
          )
        }
      </CallView>
    </section>
  );
}

export function PrivacyScreen() {
  const { env, route, go } = useApp();
  const tab: Tab = (TABS.find((t) => t.id === route.params[0])?.id ?? 'inventory') as Tab;
  const inventory = useCall(() => api.getPrivacyInventory({ env: env! }), [env], env !== null && tab === 'inventory');
  if (!env) return <NeedEnvironment />;
  return (
    <section>
      <ScreenHeader title={`Privacy · ${env}`} />
      <nav className="pills tabs" aria-label="Privacy">
        {TABS.map((t) => (
          <button key={t.id} type="button" className={t.id === tab ? 'button button-primary' : 'button'} aria-current={t.id === tab ? 'page' : undefined} onClick={() => go('privacy', t.id)}>
            {t.label}
          </button>
        ))}
      </nav>
      {tab === 'inventory' && (
        <CallView call={inventory} what="the inventory">
          {(data) => <InventoryView inventory={data} />}
        </CallView>
      )}
      {tab === 'erase' && <EraseView key={env} env={env} onAudit={() => go('privacy', 'audit')} />}
      {tab === 'audit' && <AuditView key={env} env={env} />}
    </section>
  );
}
