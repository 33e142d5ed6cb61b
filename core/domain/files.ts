/**
 * File kinds and the shape of a recognised file name (docs/edx-formats.md §1). Pure: no Node API.
 * The recogniser itself lives in `file-names.ts`.
 */

export const FILE_KINDS = [
  /** `{org}-{date}.zip`: the weekly database package (unencrypted container). */
  'weekly-package',
  /** `{org}-{date}.zip` under `email-opt-in/`: the email opt-in package. */
  'email-opt-in-package',
  /** `{c}-{table}-{env}.sql`: an edX TSV table dump (also `ora/…`). */
  'weekly-table',
  /** `{c}-course_structure-{env}.json`. */
  'course-structure',
  /** `{c}-{prod|edge}.mongo`: forum dump in extended JSON. */
  'forum',
  /** `{c}-course-{env}.xml.tar.gz`: OLX course export (kept, not loaded). */
  'olx',
  /** `{org}-email_opt_in-{env}.csv`. */
  'email-opt-in',
  /** `{org}-{site}-events-{date}.log.gz`: a daily tracking log. */
  'event-log',
  /** `{file}.failed`: edX wrote this instead of the data file because its export task failed. */
  'export-failed',
  /** Anything else. */
  'unknown',
] as const;
export type FileKind = (typeof FILE_KINDS)[number];

/** What a file name says about a file. Every field but `kind` and `name` is optional. */
export interface RecognizedFile {
  kind: FileKind;
  /** The base name as given (folder stripped). */
  name: string;
  /** True when the name ends in `.gpg` (the content may still be checked by sniffing). */
  encrypted: boolean;
  /** Org as written in the name (weekly package, event log, email opt-in). */
  org?: string;
  /** `YYYY-MM-DD`: package date or event-log day. */
  date?: string;
  /**
   * The course part of a weekly member name, `{org}-{course}-{run}` (§1.2), kept opaque:
   * it cannot be split reliably. The real course id comes from the data.
   */
  courseKey?: string;
  /** Weekly table name after aliasing (`teams`, `auth_user`, `submissions_submission`…). */
  table?: string;
  /** True for members of the `ora/` folder. */
  ora?: boolean;
  /** Exporter environment: `prod-analytics`, `prod-edge-analytics`, `prod-edx-replica`, `prod`, `edge`… */
  env?: string;
  /** `edx`, `prod` or `edge` for event logs; `edge` when the weekly env names the edge site. */
  site?: string;
  /** True when the name carries the exporter's md5 suffix for over-long names (§1.2). */
  truncated?: boolean;
  /** For `export-failed`: what the failed file would have been. */
  failedOf?: Omit<RecognizedFile, 'failedOf'>;
}

/** Ledger key of a member of a package (a zip): `{package key}!{member path}`. */
export function memberKey(packageKey: string, memberName: string): string {
  return `${packageKey}!${memberName}`;
}

/**
 * The package and member of a member key; `undefined` for the key of a whole object. Member
 * paths inside edX packages never hold `!`, so the last `!` separates the two.
 */
export function splitMemberKey(key: string): { packageKey: string; memberName: string } | undefined {
  const at = key.lastIndexOf('!');
  if (at < 0) return undefined;
  return { packageKey: key.slice(0, at), memberName: key.slice(at + 1) };
}

/** The part of a ledger key a person recognises: the member path of a member key, else the key. */
export function displayName(key: string): string {
  return splitMemberKey(key)?.memberName ?? key;
}
