import type { FleetConfig } from '../config/sections/fleet.js';
import type { EventRecord, HistoryStore } from '../history/contracts.js';
import type { FleetMessage, SourceBeat } from './contracts.js';

type Heartbeat = Extract<FleetMessage, { type: 'heartbeat' }>;

export const SITE_DOWN = { labelId: 'earshot:site-down', label: 'Site down' } as const;
export const SOURCE_DOWN = { labelId: 'earshot:source-down', label: 'Source down' } as const;

interface SiteState {
  lastMs: number;
  version: string;
  sources: Map<string, SourceBeat>;
  /** Open hub events by key ('' = the site, else a source id). */
  open: Map<string, EventRecord>;
}

/** A source is down when its own pipeline says so; ended/stopped are not failures. */
const isDown = (b: SourceBeat) => b.state === 'down' || b.state === 'failed';

/**
 * The hub's view of site health from heartbeats. No heartbeat for siteDownSeconds
 * opens a `Site down` event (stream `*` of that site); a source reported down or
 * failed opens a `Source down` event. Both are completed when the site/source is back.
 * They are ordinary history events (label ids earshot:site-down / earshot:source-down),
 * so `earshot events --label "Site down"` and /api/events list them.
 */
export class SiteWatch {
  private readonly sites = new Map<string, SiteState>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly cfg: FleetConfig,
    private readonly store: HistoryStore,
    private readonly now: () => number,
    private readonly log: (line: string) => void,
  ) {
    this.timer = setInterval(() => this.check(), 1000);
    this.timer.unref();
  }

  heartbeat(h: Heartbeat): void {
    let s = this.sites.get(h.site);
    if (!s) this.sites.set(h.site, (s = { lastMs: 0, version: h.version, sources: new Map(), open: new Map() }));
    // A late (redelivered) heartbeat says nothing about now.
    if (h.sentMs < s.lastMs) return;
    s.lastMs = Math.max(h.sentMs, s.lastMs);
    s.version = h.version;
    if (s.open.has('')) this.close(h.site, s, '');
    for (const b of h.sources) {
      s.sources.set(b.id, b);
      if (isDown(b) && !s.open.has(b.id)) this.open(h.site, s, b.id, SOURCE_DOWN);
      else if (!isDown(b) && s.open.has(b.id)) this.close(h.site, s, b.id);
    }
  }

  private check(): void {
    const t = this.now();
    for (const [site, s] of this.sites) if (!s.open.has('') && t - s.lastMs > this.cfg.siteDownSeconds * 1000) this.open(site, s, '', SITE_DOWN);
  }

  private open(site: string, s: SiteState, key: string, what: typeof SITE_DOWN | typeof SOURCE_DOWN): void {
    const t = this.now();
    const e: EventRecord = {
      id: `hub/${what.labelId.slice(8)}/${site}/${key || '*'}/${t}`,
      stream: { kind: 'source', name: key || '*', site },
      label: what.label,
      labelId: what.labelId,
      startSeconds: 0,
      endSeconds: null,
      peakScore: 1,
      meanScore: 1,
      model: 'hub',
      wallStartMs: t,
    };
    s.open.set(key, e);
    this.log(`hub: ${what.label.toLowerCase()}: site ${site}${key ? ` source ${key}` : ''}`);
    this.write(e);
  }

  private close(site: string, s: SiteState, key: string): void {
    const e = s.open.get(key)!;
    s.open.delete(key);
    this.log(`hub: ${e.label.toLowerCase()} over: site ${site}${key ? ` source ${key}` : ''}`);
    this.write({ ...e, endSeconds: (this.now() - e.wallStartMs!) / 1000 });
  }

  private write(e: EventRecord): void {
    this.store.write({ events: [e], segments: [] }).catch((err: Error) => this.log(`hub: cannot record ${e.label}: ${err.message}`));
  }

  list(): { site: string; lastHeartbeat: string; down: boolean; version: string; sources: (SourceBeat & { down: boolean })[] }[] {
    return [...this.sites].map(([site, s]) => ({
      site,
      lastHeartbeat: new Date(s.lastMs).toISOString(),
      down: s.open.has(''),
      version: s.version,
      sources: [...s.sources.values()].map((b) => ({ ...b, down: s.open.has(b.id) })),
    }));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
