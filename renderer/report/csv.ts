/**
 * CSV export of a report: every file matching the filter, fetched page by page from the server (the
 * table on screen shows one page), with times in UTC. RFC 4180 quoting.
 */
import type { ArgsOf } from '../../core/contract/methods.js';
import { api } from '../api/client.js';
import { CSV_COLUMNS, csvRow } from './csv-row.js';

const EXPORT_PAGE = 1000;

/** Builds the whole filtered report as CSV text; `onProgress` gets rows fetched so far. */
export async function reportCsv(args: Omit<ArgsOf<'getReport'>, 'offset' | 'limit'>, onProgress: (done: number, total: number) => void): Promise<string> {
  const lines = [CSV_COLUMNS.join(',')];
  let offset = 0;
  for (;;) {
    const page = await api.getReport({ ...args, offset, limit: EXPORT_PAGE });
    for (const f of page.files) lines.push(csvRow(page.run, f));
    offset += page.files.length;
    onProgress(offset, page.total);
    if (page.files.length === 0 || offset >= page.total) break;
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
