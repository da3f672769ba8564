import { hostname } from 'node:os';

import { EarshotError } from '../errors.js';
import type { EventRecord, SegmentRecord } from '../history/contracts.js';
import type { FleetMessage, WireSegment } from './contracts.js';

/** A NATS subject token: no dots, wildcards or whitespace (the payload keeps the real name). */
export function token(s: string): string {
  const t = s.replace(/[.*>\s]/g, '_');
  return t.length ? t : '_';
}

export function siteOf(configured: string): string {
  return configured || hostname();
}

export const subjectOf = (prefix: string, site: string, source: string, kind: 'event' | 'segment' | 'heartbeat') => `${prefix}.${token(site)}.${token(source)}.${kind}`;

/** The message's dedupe key (outbox key and Nats-Msg-Id): an event twice (start, end), a live segment once. */
export function keyOf(m: FleetMessage): string {
  switch (m.type) {
    case 'event':
      return `e:${m.site}:${m.record.id}:${m.record.endSeconds === null ? 's' : 'e'}`;
    case 'segment':
      return `s:${m.site}:${m.record.stream.name}:${m.record.wallMs ?? ''}:${m.record.startSeconds}`;
    case 'heartbeat':
      return `h:${m.site}:${m.sentMs}`;
  }
}

export function wireSegment(s: SegmentRecord): WireSegment {
  const { embedding, ...rest } = s;
  return embedding ? { ...rest, embedding: { scale: embedding.scale, q: Buffer.from(embedding.q.buffer, embedding.q.byteOffset, embedding.q.byteLength).toString('base64') } } : rest;
}

export function segmentFromWire(w: WireSegment, site: string): SegmentRecord {
  const { embedding, ...rest } = w;
  const stream = { ...w.stream, site };
  if (!embedding) return { ...rest, stream };
  const b = Buffer.from(embedding.q, 'base64');
  return { ...rest, stream, embedding: { scale: embedding.scale, q: new Int8Array(b.buffer, b.byteOffset, b.byteLength) } };
}

/** At the hub an event id is `<site>/<edge id>`: two edges' run ids may collide, sites do not. */
export function eventFromWire(e: EventRecord, site: string): EventRecord {
  return { ...e, id: `${site}/${e.id}`, stream: { ...e.stream, site } };
}

export function decode(data: Uint8Array): FleetMessage {
  let m: FleetMessage;
  try {
    m = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as FleetMessage;
  } catch (e) {
    throw new EarshotError('PROTOCOL_ERROR', `fleet message is not JSON: ${(e as Error).message}`);
  }
  if (!m || typeof m !== 'object' || !['event', 'segment', 'heartbeat'].includes(m.type) || typeof m.site !== 'string') {
    throw new EarshotError('PROTOCOL_ERROR', `fleet message has no known type/site: ${JSON.stringify(m).slice(0, 120)}`);
  }
  return m;
}
