/**
 * What `pds serve` refuses and the headers it sends with every response. The console runs on
 * 127.0.0.1 with a random token per start; these checks keep other local users, other web pages
 * open in the same browser and DNS-rebinding sites from reaching the engine.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CONTENT_SECURITY_POLICY } from '../contract/content-security-policy.js';

/** A new session token: 32 random bytes, URL-safe (it travels in the URL's `#token=` fragment). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Whether `given` is the token, compared in constant time. Both sides are hashed first, so the
 * compared buffers always have the same length and the time says nothing about the token's length
 * or how much of it matched.
 */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(given), digest(token));
}

/** The bearer token of an `Authorization` header, if any. */
export function bearerToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * The `Host` values the server answers: the loopback address or `localhost`, with its own port.
 * Anything else is a DNS-rebinding attempt (a site whose name was pointed at 127.0.0.1) or a
 * forward to another port (README "Console").
 */
export function allowedHosts(port: number): ReadonlySet<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
}

/** The origins of the console's own pages; a request from any other page is refused. */
export function allowedOrigins(port: number): ReadonlySet<string> {
  return new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
}

/** Why a request is refused before it is routed (403), or undefined when it may go on. */
export function refusal(request: IncomingMessage, port: number): string | undefined {
  const host = request.headers.host?.toLowerCase();
  if (host === undefined || !allowedHosts(port).has(host)) return 'This server answers only at 127.0.0.1 or localhost with its own port.';
  const origin = request.headers.origin;
  // Browsers send Origin on every POST and on cross-origin requests; a page of any other origin
  // (another site, another port, a sandboxed frame's "null") is refused before anything runs.
  if (origin !== undefined && !allowedOrigins(port).has(origin.toLowerCase())) return 'Requests from other web pages are refused.';
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site') return 'Requests from other web pages are refused.';
  return undefined;
}

/** The Content-Security-Policy of every response (shared with the desktop app's `app://` protocol). */
export { CONTENT_SECURITY_POLICY };

/** Headers on every response, API or file, refusal or not. No CORS header is ever sent. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
