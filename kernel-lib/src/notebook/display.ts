/**
 * Display helpers for tslab notebooks that also work unchanged in plain Node and the CLI.
 *
 *   showViewer(anomalyBertViewerBundle({...}));                 // bundle + HTML + text, one output
 *   const h = new DisplayHandle();
 *   h.show({ 'text/html': '<b>hi</b>', 'text/plain': 'hi' });
 *   h.show({ 'text/html': '<b>bye</b>', 'text/plain': 'bye' });  // same output, replaced
 *
 * The show* helpers return nothing on purpose: tslab echoes a cell's last expression value, so a
 * returned handle would print its fields under every chart. Pass `{ handle }` to update in place.
 *
 * In a kernel every call sends one Jupyter output carrying all MIME types; `update` replaces that
 * output in place (display_id). Outside a kernel the text/plain part is printed to stdout.
 */
import { VIEWER_MIME, type ViewerBundle } from '../browser/viewer/types';
import { htmlTable, summaryWrapper, textTable, escapeHtml, type Cell } from '../render/html';
import { inNotebook, newDisplayId, sendDisplayData, type MimeBundle } from './kernel';
import { viewerSummaries, type SummaryOptions } from './summary';

export interface DisplayHandleOptions {
  /** print updates outside a kernel (default true); progress bars turn it off and print their own. */
  printUpdates?: boolean;
  /** where text goes outside a kernel (default process.stdout). */
  out?: (text: string) => void;
}

/** One display output; the first `show` creates it, later calls replace it in place. */
export class DisplayHandle {
  readonly id: string;
  private shown = false;
  private lastText: string | undefined;
  private readonly printUpdates: boolean;
  private readonly out: (text: string) => void;

  constructor(opts: DisplayHandleOptions = {}) {
    this.id = newDisplayId();
    this.printUpdates = opts.printUpdates ?? true;
    this.out = opts.out ?? ((t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'));
  }

  /** Show (first call) or replace (later calls) this output's content. */
  show(data: MimeBundle): this {
    const sent = sendDisplayData(data, { displayId: this.id, update: this.shown });
    if (!sent) {
      const text = typeof data['text/plain'] === 'string' ? (data['text/plain'] as string) : undefined;
      if (text !== undefined && text !== this.lastText && (!this.shown || this.printUpdates)) this.out(text);
      this.lastText = text;
    }
    this.shown = true;
    return this;
  }

  update(data: MimeBundle): this {
    return this.show(data);
  }

  /** Whether the content went to a notebook front end (false: printed as text). */
  get rich(): boolean {
    return inNotebook();
  }
}

export interface ShowOptions {
  /** replace this earlier output instead of adding a new one. */
  handle?: DisplayHandle;
}

/** Show a MIME bundle as one output (or replace `opts.handle`'s output). */
export function display(data: MimeBundle, opts: ShowOptions = {}): void {
  (opts.handle ?? new DisplayHandle()).show(data);
}

/** The MIME bundle of a viewer bundle with its HTML and text fallbacks. */
export function viewerMimeBundle(bundle: ViewerBundle, opts: SummaryOptions = {}): MimeBundle {
  const { html, text } = viewerSummaries(bundle, opts);
  return {
    // JSON MIME types travel as objects in Jupyter display data (front ends get them parsed).
    [VIEWER_MIME]: bundle,
    'text/html': html,
    'text/plain': text,
  };
}

/**
 * Show a viewer bundle: the anomaly-viewer widget where the extension is installed, the HTML
 * summary elsewhere, the text summary in plain Node. Pass `handle` to replace an earlier output.
 */
export function showViewer(bundle: ViewerBundle, opts: SummaryOptions & ShowOptions = {}): void {
  display(viewerMimeBundle(bundle, opts), opts);
}

/** Show HTML with a text fallback (the HTML is trusted markup built by the caller). */
export function showHtml(html: string, text: string, opts: ShowOptions = {}): void {
  display({ 'text/html': summaryWrapper(html), 'text/plain': text }, opts);
}

/** Show a small table of rows (escaped HTML + aligned text). */
export function showTable(columns: string[], rows: Cell[][], opts: ShowOptions & { title?: string; maxRows?: number } = {}): void {
  const title = opts.title ? `<h4>${escapeHtml(opts.title)}</h4>` : '';
  const text = (opts.title ? opts.title + '\n' : '') + textTable(columns, rows, { maxRows: opts.maxRows });
  display({ 'text/html': summaryWrapper(title + htmlTable(columns, rows, { maxRows: opts.maxRows })), 'text/plain': text }, opts);
}
