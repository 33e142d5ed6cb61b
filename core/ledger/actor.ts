/**
 * Who acts, as the ledger records it: the operating-system account of this process. The audit log
 * writes it `os:<user>` for the CLI and `<origin>:<user>` for work started by the console, the
 * scheduler or the desktop app (which all run as that account).
 */
import { userInfo } from 'node:os';

/** The account running this process (`uid-N` when it has no name). */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/** `os:<user>`: the CLI's actor. */
export function osActor(): string {
  return `os:${osUser()}`;
}

/** The actor of a run: `os:<user>` when started from the CLI, else `<origin>:<user>`. */
export function runActor(origin: string | null | undefined, user: string): string {
  return !origin || origin === 'cli' ? `os:${user}` : `${origin}:${user}`;
}
