/**
 * The console's Content-Security-Policy, one definition for every way the console is served:
 * `pds serve` sends it on each HTTP response, the desktop app on each `app://` response. The
 * console's own scripts, styles and API only; no inline script or style element, no plugins, no
 * framing, no form posts elsewhere. Style properties set from script (React's `style` prop) are
 * not affected by `style-src`.
 *
 * Pure: no Node API.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
