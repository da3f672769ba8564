/**
 * Lines for `earshot run --print` and `earshot watch`: both print protocol messages
 * (docs/protocol.md), so the daemon's own stdout and a remote client look the same.
 * `json` prints the message as sent on the wire.
 */
export type PrintMode = 'text' | 'json';

export const PRINT_MODES: readonly PrintMode[] = ['text', 'json'];

interface EventMsg {
  readonly type: string;
  readonly source?: unknown;
  readonly label?: unknown;
  readonly start?: unknown;
  readonly end?: unknown;
  readonly score?: unknown;
}

const num = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);
const sec = (v: unknown) => `${num(v).toFixed(2)}s`;

/** One line for a server message, or undefined for kinds a live view does not show (hello, pong, ...). */
export function formatMessage(m: Record<string, unknown> & { type: string }, mode: PrintMode): string | undefined {
  if (mode === 'json') return JSON.stringify(m);
  const src = `[${String(m.source ?? '')}]`;
  switch (m.type) {
    case 'event.start': {
      const e = m as EventMsg;
      return `${src} ${sec(e.start).padStart(9)}  >> ${String(e.label)} started (score ${num(e.score).toFixed(2)})`;
    }
    case 'event.end': {
      const e = m as EventMsg;
      return `${src} ${sec(e.end).padStart(9)}  << ${String(e.label)} ended (${sec(e.start)}-${sec(e.end)}, peak ${num(e.score).toFixed(2)})`;
    }
    case 'scores': {
      const top = (m.top as { label: string; score: number }[]).map((l) => `${l.label} ${l.score.toFixed(2)}`).join(' | ');
      return `${src} ${sec(m.start).padStart(9)}-${sec(m.end)}  ${top}`;
    }
    case 'status': {
      const err = m.error as { code: string; message: string } | undefined;
      return `${src} status ${String(m.state)}${err ? `: [${err.code}] ${err.message}` : ''}`;
    }
    case 'error':
      return `error [${String(m.code)}]: ${String(m.message)}`;
    default:
      return undefined;
  }
}
