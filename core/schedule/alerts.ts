/**
 * Alerts of unattended operation (README "Unattended operation"): a run that ended flagged or
 * failed, a schedule slot missed or skipped, a late delivery. Sent by e-mail over SMTP (TLS:
 * implicit on 465, else STARTTLS required; the password by secret reference) and/or as a JSON POST
 * to a webhook (signed with HMAC-SHA256 when a secret is configured). Each says what happened, the
 * flagged files with their reasons and how to see the report. The same problem is sent once, then
 * as a digest ("still the case since …") every `repeatDays`; the state is in the ledger. Never a
 * secret nor a learner's data: texts are the engine's own messages, with anything shaped like an
 * e-mail address removed.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import { resolvePath, resolveSecret } from '../config/config-store.js';
import type { AlertsConfig } from '../config/unattended-schema.js';
import type { RunResult } from '../domain/results.js';
import { isFlagged } from '../domain/results.js';
import type { ScheduleLedger } from './schedule-ledger.js';
import type { SchedulerNotice } from './scheduler.js';

export type AlertKind = 'run-flagged' | 'run-failed' | 'slot-missed' | 'delivery-late';

export interface AlertFile {
  key: string;
  status: string;
  code: string | null;
  reason: string | null;
}

export interface Alert {
  kind: AlertKind;
  env: string;
  /** Identifies the problem (not the night): the same fingerprint is not sent again before `repeatDays`. */
  fingerprint: string;
  subject: string;
  summary: string;
  files: AlertFile[];
  /** How to see the report. */
  report: string;
  runId?: string;
}

/** What was done with an alert. */
export type AlertOutcome = 'sent' | 'digest' | 'suppressed' | 'no-channel';

/** The signature header of webhook bodies: `sha256=<hex HMAC-SHA256 of the body>`. */
export const SIGNATURE_HEADER = 'x-pds-signature';
const MAX_FILES = 50;
const MAX_REASON = 400;

/** Removes what could be a learner's data from an engine text: e-mail addresses, and keeps it short. */
export function scrub(text: string): string {
  const cleaned = text.replace(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+/g, '[address removed]');
  return cleaned.length > MAX_REASON ? `${cleaned.slice(0, MAX_REASON - 1)}…` : cleaned;
}

const hash = (parts: string[]): string => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);

function reportHow(env: string, runId: string | undefined, config: AlertsConfig | undefined): string {
  const cli = runId ? `pds report --env ${env} ${runId}` : `pds status --env ${env}`;
  return config?.reportLink ? `Open ${config.reportLink} (or run: ${cli}).` : `Run: ${cli} (or open the console's report of the run).`;
}

/** The alert for a finished run, or undefined when it loaded everything (or was cancelled). */
export function alertForRun(env: string, result: RunResult, config?: AlertsConfig): Alert | undefined {
  if (result.status !== 'flagged' && result.status !== 'failed') return undefined;
  const flagged = result.files.filter(isFlagged);
  const files = flagged.slice(0, MAX_FILES).map((f) => ({ key: f.key, status: f.status, code: f.code ?? null, reason: f.reason ? scrub(f.reason) : null }));
  const t = result.totals;
  const counts = `${t.loaded} loaded, ${t.partial} partial, ${t.failed} failed, ${t.skipped} skipped`;
  if (result.status === 'failed') {
    const code = result.error?.code ?? 'FAILED';
    return {
      kind: 'run-failed',
      env,
      fingerprint: hash(['run-failed', env, code, ...flagged.map((f) => `${f.key}:${f.code ?? ''}`).sort()]),
      subject: `[pds ${env}] load failed: ${code}`,
      summary: `The load of environment ${env} (run ${result.runId}) failed${result.error ? `: ${scrub(result.error.message)}${result.error.hint ? ` What to do: ${scrub(result.error.hint)}` : ''}` : '.'} Files: ${counts}.${flagged.length > MAX_FILES ? ` ${flagged.length - MAX_FILES} more flagged files are in the report.` : ''}`,
      files,
      report: reportHow(env, result.runId, config),
      runId: result.runId,
    };
  }
  return {
    kind: 'run-flagged',
    env,
    fingerprint: hash(['run-flagged', env, ...flagged.map((f) => `${f.key}:${f.code ?? ''}`).sort()]),
    subject: `[pds ${env}] load finished with ${flagged.length} flagged file(s)`,
    summary: `The load of environment ${env} (run ${result.runId}) finished with ${flagged.length} file(s) that need attention. Files: ${counts}.${flagged.length > MAX_FILES ? ` ${flagged.length - MAX_FILES} more flagged files are in the report.` : ''}`,
    files,
    report: reportHow(env, result.runId, config),
    runId: result.runId,
  };
}

/** The alert for a slot the scheduler could not run (a load in progress, downtime, a start that failed). */
export function alertForSlot(notice: Extract<SchedulerNotice, { type: 'slot-missed' }>, config?: AlertsConfig): Alert {
  const what = notice.reason === 'skipped' ? 'skipped (another load of the environment was in progress)' : notice.reason === 'missed' ? 'missed (the scheduler was not running)' : 'could not start';
  return {
    kind: 'slot-missed',
    env: notice.env,
    fingerprint: hash(['slot-missed', notice.env, notice.schedule, notice.reason]),
    subject: `[pds ${notice.env}] schedule ${notice.schedule}: slot ${notice.reason}`,
    summary: `Schedule ${notice.schedule} of environment ${notice.env}: ${notice.slots.length} slot(s) ${what} (${notice.slots.join(', ')}). ${scrub(notice.detail)}`,
    files: [],
    report: reportHow(notice.env, notice.runId, config),
    runId: notice.runId,
  };
}

/** The alert for a late delivery: what is late and the last file seen. */
export function alertForDelivery(env: string, late: { what: 'events' | 'weekly'; lastKey: string | null; lastDate: string | null; days: number | null; maxDays: number }): Alert {
  const label = late.what === 'events' ? 'daily event log' : 'weekly package';
  const since = late.lastKey ? `The last ${label} seen is ${late.lastKey} (${late.lastDate}, ${late.days} days ago).` : `No ${label} has been seen yet.`;
  return {
    kind: 'delivery-late',
    env,
    fingerprint: hash(['delivery-late', env, late.what, late.lastKey ?? '']),
    subject: `[pds ${env}] no new ${label} for more than ${late.maxDays} days`,
    summary: `Environment ${env}: no new ${label} has arrived for more than ${late.maxDays} days. ${since} edX skips deliveries when the public key it encrypts with has expired or after an outage: check the key's expiry (pds doctor --env ${env}) and ask edX support about the missing days.`,
    files: [],
    report: `Run: pds doctor --env ${env}`,
  };
}

/** Plain-text body of an alert (the e-mail). */
export function alertText(alert: Alert, digest: { firstSeenAt: string; seen: number } | undefined): string {
  const lines = [
    digest ? `Still the case: this problem was first seen at ${digest.firstSeenAt} and has been seen ${digest.seen} time(s) since (a reminder; it is not sent every night).` : undefined,
    alert.summary,
    ...(alert.files.length ? ['', 'Flagged files:', ...alert.files.map((f) => `- ${f.key}: ${f.status}${f.code ? ` ${f.code}` : ''}${f.reason ? ` — ${f.reason}` : ''}`)] : []),
    '',
    `To see the report: ${alert.report}`,
  ];
  return `${lines.filter((l) => l !== undefined).join('\n')}\n`;
}

/** The webhook body. */
export function alertPayload(alert: Alert, digest: { firstSeenAt: string; seen: number } | undefined, at: Date): Record<string, unknown> {
  return {
    kind: alert.kind,
    env: alert.env,
    digest: Boolean(digest),
    ...(digest ? { firstSeenAt: digest.firstSeenAt, seen: digest.seen } : {}),
    subject: alert.subject,
    summary: alert.summary,
    files: alert.files,
    report: alert.report,
    ...(alert.runId ? { runId: alert.runId } : {}),
    sentAt: at.toISOString(),
  };
}

/** HMAC-SHA256 of a body, as the signature header carries it. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Sends the alert to every configured channel. Throws ALERT_FAILED naming the channel that failed. */
export async function sendAlert(alert: Alert, config: AlertsConfig, home: string, digest: { firstSeenAt: string; seen: number } | undefined, at: Date): Promise<void> {
  const errors: string[] = [];
  if (config.email) {
    const e = config.email;
    try {
      const pass = e.password ? await resolveSecret(e.password, home, `environments.${alert.env}.alerts.email.password`) : undefined;
      const transport = nodemailer.createTransport({
        host: e.host,
        port: e.port,
        secure: e.secure,
        requireTLS: !e.secure,
        ...(e.user ? { auth: { user: e.user, pass } } : {}),
        tls: { minVersion: 'TLSv1.2', ...(e.ca ? { ca: await readFile(resolvePath(home, e.ca)) } : {}) },
        connectionTimeout: 15_000,
        greetingTimeout: 15_000,
        socketTimeout: 30_000,
      });
      try {
        await transport.sendMail({ from: e.from, to: e.to, subject: digest ? `${alert.subject} (still the case)` : alert.subject, text: alertText(alert, digest) });
      } finally {
        transport.close();
      }
    } catch (error) {
      errors.push(`e-mail via ${e.host}:${e.port}: ${(error as Error).message}`);
    }
  }
  if (config.webhook) {
    const w = config.webhook;
    try {
      const body = JSON.stringify(alertPayload(alert, digest, at));
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-pds-event': alert.kind };
      if (w.secret) headers[SIGNATURE_HEADER] = signBody(body, await resolveSecret(w.secret, home, `environments.${alert.env}.alerts.webhook.secret`));
      const response = await fetch(w.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
      if (!response.ok) throw new Error(`the receiver answered HTTP ${response.status}`);
    } catch (error) {
      errors.push(`webhook ${new URL(w.url).origin}: ${(error as Error).message}`);
    }
  }
  if (errors.length > 0) throw new Error(`Alert "${alert.subject}" could not be sent: ${errors.join('; ')}.`);
}

/**
 * Sends an alert unless the same problem was sent within `repeatDays` (then it is only noted);
 * after that a digest says it persists. Without a channel configured the problem is only noted.
 */
export async function deliverAlert(alert: Alert, config: AlertsConfig | undefined, home: string, ledger: ScheduleLedger, at: Date): Promise<AlertOutcome> {
  const state = ledger.alertState(alert.fingerprint);
  if (!config || (!config.email && !config.webhook)) {
    ledger.noteAlert(alert.fingerprint, alert.kind, alert.subject, at, false);
    return 'no-channel';
  }
  const repeatMs = config.repeatDays * 24 * 60 * 60 * 1000;
  if (state?.lastSentAt && at.getTime() - Date.parse(state.lastSentAt) < repeatMs) {
    ledger.noteAlert(alert.fingerprint, alert.kind, alert.subject, at, false);
    return 'suppressed';
  }
  const digest = state ? { firstSeenAt: state.firstSeenAt, seen: state.seen + 1 } : undefined;
  await sendAlert(alert, config, home, digest, at);
  ledger.noteAlert(alert.fingerprint, alert.kind, alert.subject, at, true);
  return digest ? 'digest' : 'sent';
}
