/**
 * DOM helpers. Everything that comes from data (titles, column, fault and file names) goes through
 * textContent or attribute setters — never innerHTML — so a name like `<img src=x onerror=…>` is
 * shown as text and nothing executes.
 */
import { formatNumber, shareText } from 'anomaly-lab-browser';

export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; attrs?: Record<string, string>; title?: string; onClick?: (ev: MouseEvent) => void } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.className) el.className = props.className;
  if (props.title) el.title = props.title;
  if (props.attrs) for (const [k, v] of Object.entries(props.attrs)) el.setAttribute(k, v);
  if (props.onClick) el.addEventListener('click', props.onClick as EventListener);
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

export function clear(el: HTMLElement): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** Numbers as the reports render them (anomaly-lab-browser formatNumber); '–' when there is none. */
export function fmtNumber(v: number | null | undefined, digits = 4): string {
  return typeof v === 'number' && Number.isFinite(v) ? formatNumber(v, digits) : '–';
}

/** A share as the core's tables show it (percent with 2 places; '–' when there is none). */
export function fmtPct(v: number | null | undefined): string {
  return shareText(v);
}

/** Save text or a data URL as a file through a temporary link (the browser's download). */
export function download(filename: string, content: string | Blob, mime = 'text/plain'): void {
  const blob = typeof content === 'string' ? new Blob([content], { type: mime }) : content;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** File-name-safe stem from a title. */
export function fileStem(title: string): string {
  const s = title
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 60);
  return s || 'anomalies';
}
