import type { NotifyRule } from '../config/sections/notify.js';
import type { EventMessage } from './contracts.js';

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

function inQuietHours(spec: string, at: Date): boolean {
  if (!spec) return false;
  const [a, b] = spec.split('-').map(minutes);
  const now = at.getHours() * 60 + at.getMinutes();
  return a! <= b! ? now >= a! && now < b! : now >= a! || now < b!;
}

const matches = (r: NotifyRule, e: EventMessage) =>
  (r.sources.length === 0 || r.sources.includes(e.source)) && (r.labels.length === 0 || r.labels.some((l) => l === e.labelId || l.toLowerCase() === e.label.toLowerCase()));

/**
 * Notification rules: the first rule matching an event's source and label decides
 * whether its start is sent (exclude, minScore, quiet hours in local time, cooldown per
 * source and label); no matching rule = sent. An end is sent exactly when its start was.
 */
export class NotifyRules {
  private readonly lastSentMs = new Map<string, number>();
  private readonly passed = new Set<string>();

  constructor(private readonly rules: readonly NotifyRule[]) {}

  allow(e: EventMessage, nowMs: number): boolean {
    if (e.type === 'end') return this.passed.delete(e.id);
    const r = this.rules.find((x) => matches(x, e));
    if (r) {
      if (r.exclude || e.score < r.minScore || inQuietHours(r.quietHours, new Date(nowMs))) return false;
      const k = `${e.source}\u0000${e.label}`;
      const last = this.lastSentMs.get(k);
      if (r.cooldownSeconds > 0 && last !== undefined && nowMs - last < r.cooldownSeconds * 1000) return false;
      this.lastSentMs.set(k, nowMs);
    }
    this.passed.add(e.id);
    return true;
  }
}
