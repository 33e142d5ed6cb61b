/**
 * Progress display for long CLI work: a bar per run on a terminal, one line per file otherwise
 * (logs of cron/systemd runs). Writes to stderr so `--json` output on stdout stays clean.
 */
import cliProgress from 'cli-progress';
import type { RunProgress } from '../domain/results.js';

export interface ProgressView {
  onProgress: (event: RunProgress) => void;
  stop(): void;
}

function shortKey(key: string): string {
  const name = key.split(/[/!]/).pop() ?? key;
  return name.length > 60 ? `…${name.slice(-59)}` : name;
}

export function createProgressView(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): ProgressView {
  const out = options.stream ?? process.stderr;
  if (options.quiet) return { onProgress: () => undefined, stop: () => undefined };
  if (!out.isTTY) {
    return {
      onProgress(event) {
        if (event.type === 'run-started') out.write(`run ${event.runId}: ${event.planned} files to process, ${event.upToDate} already loaded\n`);
        if (event.type === 'file-finished') {
          const r = event.result;
          out.write(`${r.status.padEnd(7)} ${r.key}${r.code ? ` [${r.code}]` : ''}\n`);
        }
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: ' {bar} {value}/{total} files | {file}', hideCursor: true, clearOnComplete: false, stream: out, barsize: 30 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let done = 0;
  return {
    onProgress(event) {
      switch (event.type) {
        case 'run-started':
          out.write(`run ${event.runId}: ${event.planned} files to process, ${event.upToDate} already loaded\n`);
          if (event.planned > 0) bar.start(event.planned, 0, { file: '' }), (started = true);
          break;
        case 'file-started':
          if (started) bar.update(done, { file: shortKey(event.key) });
          break;
        case 'file-progress':
          if (started) bar.update(done, { file: `${shortKey(event.key)} ${event.stage}${event.rows ? ` ${event.rows.toLocaleString('en')} rows` : ''}${event.bytes ? ` ${(event.bytes / 1e6).toFixed(1)} MB` : ''}` });
          break;
        case 'file-finished':
          // Members of a package are extra lines; the bar counts planned objects.
          if (!event.result.parentKey && started) bar.update(++done, { file: shortKey(event.result.key) });
          break;
        case 'run-finished':
          if (started) bar.stop(), (started = false);
          break;
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
