/**
 * The environment's private keys: import by pasting the armored text or choosing the key file,
 * the list with fingerprints, user ids and expiry, and a warning when a key expires within 30 days
 * (edX stops delivering to an expired key: docs/edx-formats.md §2).
 */
import { useState, type FormEvent } from 'react';
import { api } from '../api/client.js';
import { useApp } from '../common/app-context.js';
import { useCall } from '../common/use-call.js';
import { Empty, ErrorNote, Field, Loading, NeedEnvironment, Pill, ScreenHeader, Time } from '../common/ui.js';
import { expiry, groupFingerprint } from './key-expiry.js';

async function fileToBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function KeysScreen() {
  const { env, refreshEnvironments } = useApp();
  const keys = useCall(() => api.listKeys({ env: env! }), [env], env !== null);
  const [armored, setArmored] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [fileInputKey, setFileInputKey] = useState(0);
  const [importError, setImportError] = useState<unknown>();
  const [imported, setImported] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [removeError, setRemoveError] = useState<unknown>();

  if (!env) return <NeedEnvironment />;

  async function importKey(event: FormEvent) {
    event.preventDefault();
    setImportError(undefined);
    setImported(null);
    if (!armored.trim() && !file) {
      setImportError(new Error('Paste the armored private key (it starts with -----BEGIN PGP PRIVATE KEY BLOCK-----) or choose the key file.'));
      return;
    }
    setBusy(true);
    try {
      const before = new Set((keys.data ?? []).map((k) => k.fingerprint));
      const result = armored.trim() ? await api.importKey({ env: env!, armored }) : await api.importKey({ env: env!, base64: await fileToBase64(file!) });
      const added = result.filter((k) => !before.has(k.fingerprint));
      setImported(added.length > 0 ? `Imported ${added.map((k) => k.userIds[0] ?? k.keyId).join(', ')}.` : 'The key was already imported.');
      setArmored('');
      setFile(null);
      setFileInputKey((k) => k + 1);
      keys.reload();
      refreshEnvironments();
    } catch (e) {
      setImportError(e);
    } finally {
      setBusy(false);
    }
  }

  async function remove(fingerprint: string) {
    setRemoveError(undefined);
    try {
      await api.removeKey({ env: env!, fingerprint });
      setConfirming(null);
      keys.reload();
      refreshEnvironments();
    } catch (e) {
      setRemoveError(e);
    }
  }

  const now = Date.now();
  return (
    <section>
      <ScreenHeader title={`Keys · ${env}`} />
      <div className="two-col">
        <div>
          <h2 className="section-title">Imported keys</h2>
          {removeError !== undefined && <ErrorNote error={removeError} />}
          {keys.error !== undefined ? (
            <ErrorNote error={keys.error} />
          ) : !keys.data ? (
            <Loading what="keys" />
          ) : keys.data.length === 0 ? (
            <Empty title="No key imported">
              <p>edX encrypts every file to your organisation’s public key. Import the matching private key here (paste it or choose the file) so runs can decrypt them.</p>
            </Empty>
          ) : (
            <ul className="key-list">
              {keys.data.map((k) => {
                const e = expiry(k, now);
                return (
                  <li key={k.fingerprint} className="card key-card">
                    <div className="card-head">
                      <h3 className="key-user">{k.userIds[0] ?? k.keyId}</h3>
                      <Pill status={e.label} tone={e.tone} />
                    </div>
                    {e.warning && (
                      <p className={`note ${e.tone === 'bad' ? 'note-bad' : 'note-warn'}`} role="alert">
                        {e.warning}
                      </p>
                    )}
                    <dl className="facts">
                      <dt>Fingerprint</dt>
                      <dd>
                        <code className="mono">{groupFingerprint(k.fingerprint)}</code>
                      </dd>
                      {k.userIds.length > 1 && (
                        <>
                          <dt>Also</dt>
                          <dd>{k.userIds.slice(1).join(', ')}</dd>
                        </>
                      )}
                      <dt>Algorithm</dt>
                      <dd>{k.algorithm}</dd>
                      <dt>Created</dt>
                      <dd>
                        <Time iso={k.created} />
                      </dd>
                      <dt>Expires</dt>
                      <dd>{k.expires ? <Time iso={k.expires} /> : 'never'}</dd>
                      <dt>Passphrase</dt>
                      <dd>{k.protected ? 'protected (the environment’s key passphrase unlocks it)' : 'not protected'}</dd>
                    </dl>
                    <div className="card-actions">
                      {confirming === k.fingerprint ? (
                        <div className="confirm" role="group" aria-label="Confirm removal">
                          <p>Remove this key? Files encrypted to it can no longer be decrypted until it is imported again.</p>
                          <button type="button" className="button button-danger" onClick={() => remove(k.fingerprint)}>
                            Remove key
                          </button>
                          <button type="button" className="button" onClick={() => setConfirming(null)}>
                            Keep it
                          </button>
                        </div>
                      ) : (
                        <button type="button" className="button" onClick={() => setConfirming(k.fingerprint)} aria-label={`Remove the key ${k.userIds[0] ?? k.keyId}`}>
                          Remove…
                        </button>
                      )}
                    </div>
                  </li>
                );
              })}
            </ul>
          )}
        </div>
        <form className="card form" onSubmit={importKey} aria-label="Import a key">
          <h2 className="section-title">Import a private key</h2>
          <Field label="Paste the armored key" help="Starts with -----BEGIN PGP PRIVATE KEY BLOCK-----. It stays on this machine.">
            {(p) => <textarea {...p} className="mono" rows={7} value={armored} spellCheck={false} onChange={(e) => setArmored(e.target.value)} disabled={file !== null} />}
          </Field>
          <Field label="…or choose the key file" help="An .asc, .gpg or .key file exported with gpg --export-secret-keys.">
            {(p) => <input {...p} key={fileInputKey} type="file" accept=".asc,.gpg,.key,.pgp,application/pgp-keys" onChange={(e) => setFile(e.target.files?.[0] ?? null)} disabled={armored.trim() !== ''} />}
          </Field>
          {importError !== undefined && <ErrorNote error={importError} />}
          {imported && (
            <p className="note note-ok" role="status">
              {imported}
            </p>
          )}
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? 'Importing…' : 'Import key'}
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}
