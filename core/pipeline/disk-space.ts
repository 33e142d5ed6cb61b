/**
 * The disk-space check before fetching (README "Unattended operation"): a run refuses to start
 * downloading when the landing folder's file system has less free space than the bytes planned
 * times a margin (decrypting and unpacking need room beside the download), rather than filling the
 * disk half-way through a package.
 */
import { existsSync } from 'node:fs';
import { mkdir, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../errors/index.js';

/** Free bytes on the file system holding `dir` (created when missing, unless `create` is false: then its nearest existing parent is measured). */
export async function freeBytes(dir: string, create = true): Promise<number> {
  let at = dir;
  if (create) await mkdir(dir, { recursive: true });
  else while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  const s = await statfs(at);
  return Number(s.bavail) * Number(s.bsize);
}

const mb = (n: number): string => `${Math.ceil(n / 1024 / 1024).toLocaleString('en-GB')} MB`;

/** Throws DISK_SPACE_LOW when `plannedBytes × factor` exceed the free space of `dir`. */
export async function checkDiskSpace(dir: string, plannedBytes: number, factor: number, free?: number): Promise<void> {
  if (plannedBytes <= 0) return;
  const available = free ?? (await freeBytes(dir));
  const needed = plannedBytes * factor;
  if (needed > available) {
    throw new ConfigError(
      `Not enough disk space to fetch: the run plans ${mb(plannedBytes)}, which needs about ${mb(needed)} free (×${factor}) in ${dir}, and only ${mb(available)} is free. Nothing was fetched.`,
      {
        code: 'DISK_SPACE_LOW',
        hint: `Free space on that disk (old landing files are removed by retention.landingDays), or lower retention.diskFactor in config.yaml if decrypted copies are smaller; then run again.`,
      },
    );
  }
}
