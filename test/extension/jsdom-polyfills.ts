/**
 * jsdom lacks DragEvent, which @lumino/dragdrop (pulled in by @lumino/widgets) subclasses at
 * import time. Browsers have it; this stand-in exists only for the jsdom tests. Import first.
 */
const g = globalThis as unknown as { DragEvent?: unknown; MouseEvent: typeof MouseEvent };
if (typeof g.DragEvent === 'undefined') g.DragEvent = class DragEvent extends g.MouseEvent {};
export {};
