import type { Config } from '../config/schema.js';

/** What SIGHUP applies in place; everything else the daemon reads is fixed at start. */
const APPLIED_SERVER_KEYS = new Set(['token', 'maxMessageBytes', 'clientQueueMessages', 'stalledDisconnectSeconds', 'heartbeatSeconds', 'replayEvents']);

/** Why a key cannot change without a restart (the log line says so). */
const WHY: Record<string, string> = {
  'server.host': 'the listener is bound at start',
  'server.port': 'the listener is bound at start',
  sources: 'sources are opened at start',
  models: 'models are loaded at start',
  engine: 'models are loaded at start',
  frontend: 'the frontend is built at start',
  supervision: 'source supervision is set up at start',
};

export interface UnappliedChange {
  readonly key: string;
  readonly from: unknown;
  readonly to: unknown;
  readonly why: string;
}

function leaves(prefix: string, v: unknown, out: Map<string, unknown>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) leaves(`${prefix}.${k}`, x, out);
  } else out.set(prefix, v);
}

function diff(prefix: string, a: unknown, b: unknown): [string, unknown, unknown][] {
  const la = new Map<string, unknown>();
  const lb = new Map<string, unknown>();
  leaves(prefix, a, la);
  leaves(prefix, b, lb);
  const keys = [...new Set([...la.keys(), ...lb.keys()])];
  return keys.filter((k) => JSON.stringify(la.get(k)) !== JSON.stringify(lb.get(k))).map((k) => [k, la.get(k), lb.get(k)]);
}

/**
 * Keys that differ between the running and the re-read config but that a reload does
 * not apply. `events.*`, per-source `events`, the server token and limits, and
 * `supervision.stopBudgetSeconds` apply; storage/train are not used by the daemon.
 */
export function unappliedChanges(running: Config, next: Config): UnappliedChange[] {
  const out: UnappliedChange[] = [];
  for (const [key, from, to] of diff('server', running.server, next.server)) {
    if (!APPLIED_SERVER_KEYS.has(key.slice('server.'.length))) out.push({ key, from, to, why: WHY[key] ?? 'fixed at start' });
  }
  for (const section of ['models', 'engine', 'frontend', 'supervision'] as const) {
    for (const [key, from, to] of diff(section, running[section], next[section])) {
      if (key !== 'supervision.stopBudgetSeconds') out.push({ key, from, to, why: WHY[section]! });
    }
  }
  // sources without their own `events` block (which does apply), compared by id
  const strip = (c: Config) => new Map(c.sources.map(({ events: _e, ...s }) => [s.id, JSON.stringify(s)]));
  const [a, b] = [strip(running), strip(next)];
  for (const [id, s] of b) {
    if (!a.has(id)) out.push({ key: `sources.${id}`, from: undefined, to: 'added', why: WHY.sources! });
    else if (a.get(id) !== s) out.push({ key: `sources.${id}`, from: JSON.parse(a.get(id)!), to: JSON.parse(s), why: WHY.sources! });
  }
  for (const id of a.keys()) if (!b.has(id)) out.push({ key: `sources.${id}`, from: 'present', to: 'removed', why: WHY.sources! });
  return out;
}

/** One log line per key: `not applied (restart earshot to apply): server.port 8765 -> 9000: the listener is bound at start`. */
export function describeUnapplied(c: UnappliedChange): string {
  const show = (v: unknown) => (v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v));
  const change = c.key.startsWith('sources.') ? (c.to === 'added' || c.to === 'removed' ? String(c.to) : 'changed') : `${show(c.from)} -> ${show(c.to)}`;
  return `configuration reload: ${c.key} ${change} not applied (${c.why}; restart earshot to apply it)`;
}
