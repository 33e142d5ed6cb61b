/**
 * The access token `pds serve` prints in its link (`http://127.0.0.1:PORT/#token=…`). It is read
 * from the URL fragment once, kept in sessionStorage (this tab only, gone when it closes) and
 * removed from the address bar, so it is not left in the history or a screenshot.
 */
const STORAGE_KEY = 'pds.token';

/** Takes a `#token=…` fragment into sessionStorage and removes it from the address bar. */
export function adoptTokenFromUrl(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  sessionStorage.setItem(STORAGE_KEY, decodeURIComponent(match[1]!));
  const rest = window.location.hash.replace(/(^#|&)token=[^&]+/, '$1').replace(/^#&/, '#');
  history.replaceState(null, '', window.location.pathname + window.location.search + (rest === '#' ? '' : rest));
}

export function currentToken(): string {
  return sessionStorage.getItem(STORAGE_KEY) ?? '';
}
