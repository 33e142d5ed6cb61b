/**
 * Light and dark themes follow the operating system (`prefers-color-scheme`) unless the operator
 * picks one; the choice is kept in localStorage and set as `data-theme` on the root element, so the
 * stylesheet needs no inline style.
 */
export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];
const KEY = 'pds.theme';

export function storedTheme(): Theme {
  const t = localStorage.getItem(KEY);
  return (THEMES as readonly string[]).includes(t ?? '') ? (t as Theme) : 'system';
}

export function applyTheme(theme: Theme): void {
  localStorage.setItem(KEY, theme);
  if (theme === 'system') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', theme);
}
