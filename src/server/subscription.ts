import type { LabelInfo } from '../classify/contracts.js';
import { didYouMean, namesLabel } from '../classify/label-match.js';
import { EarshotError } from '../errors.js';
import type { Ontology } from './ontology.js';
import type { MessageKind, SubscribeMessage } from './protocol.js';

/** A resolved subscription: per source, which label indices pass (undefined mask = all). */
export interface Subscription {
  readonly sources: ReadonlyMap<string, { readonly mask?: Uint8Array; readonly ids?: ReadonlySet<string> }>;
  readonly minScore: number;
  readonly topK: number;
  readonly kinds: ReadonlySet<MessageKind>;
  /** Equal keys = identical `scores` payloads, so one serialisation serves the group. */
  readonly key: string;
}

/**
 * Resolves names/ontology ids against each subscribed source's label table.
 * A term matches a label by display name (any case) or id, or, through the ontology,
 * any label descending from it. A term matching nothing in any subscribed source is an error,
 * as is an unknown source: silently empty subscriptions hide typos.
 */
export function resolveSubscription(msg: SubscribeMessage, labelsBySource: ReadonlyMap<string, readonly LabelInfo[]>, ontology: Ontology | undefined, defaultTopK: number): Subscription {
  const ids = msg.sources ?? [...labelsBySource.keys()];
  for (const id of ids) {
    if (!labelsBySource.has(id)) throw new EarshotError('PROTOCOL_ERROR', `unknown source "${id}" (known: ${[...labelsBySource.keys()].join(', ')})`);
  }
  const terms = msg.labels;
  const wanted = terms ? expandTerms(terms, ontology) : undefined;
  const sources = new Map<string, { mask?: Uint8Array; ids?: Set<string> }>();
  const matched = new Set<string>();
  for (const id of ids) {
    const labels = labelsBySource.get(id)!;
    if (!wanted) {
      sources.set(id, {});
      continue;
    }
    const mask = new Uint8Array(labels.length);
    const okIds = new Set<string>();
    for (const l of labels) {
      const hits = wanted.filter((w) => w.ids.has(l.id) || namesLabel(w.term, l));
      if (hits.length) {
        mask[l.index] = 1;
        okIds.add(l.id);
        for (const w of hits) matched.add(w.term);
      }
    }
    sources.set(id, { mask, ids: okIds });
  }
  const missing = (terms ?? []).filter((t) => !matched.has(t));
  if (missing.length) {
    const names = new Set([...ids.flatMap((id) => labelsBySource.get(id)!.map((l) => l.name)), ...(ontology?.names() ?? [])]);
    const listed = missing.map((m) => `${JSON.stringify(m)}${didYouMean(m, names)}`).join(', ');
    throw new EarshotError('PROTOCOL_ERROR', `labels match nothing in the subscribed sources: ${listed}`);
  }
  const topK = msg.topK ?? defaultTopK;
  const key = JSON.stringify([[...ids].sort(), terms ? [...terms].sort() : null, msg.minScore, topK]);
  return { sources, minScore: msg.minScore, topK, kinds: new Set(msg.kinds), key };
}

function expandTerms(terms: readonly string[], ontology: Ontology | undefined): { term: string; ids: Set<string> }[] {
  return terms.map((term) => ({ term, ids: ontology ? ontology.descendants(term) : new Set<string>() }));
}

export function wantsEvent(sub: Subscription, sourceId: string, labelId: string): boolean {
  if (!sub.kinds.has('events')) return false;
  const s = sub.sources.get(sourceId);
  return s !== undefined && (s.ids === undefined || s.ids.has(labelId));
}
