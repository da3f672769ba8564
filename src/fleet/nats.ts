import { connect, type JetStreamManager, nanos, type NatsConnection, RetentionPolicy, StorageType } from 'nats';

/** A NATS connection that keeps trying forever (first connect included) and never throws at the caller. */
export function connectForever(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: url.split(','), name, waitOnFirstConnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 500, pingInterval: 5000, maxPingOut: 2 });
}

/** Creates the fleet stream (all fleet subjects, file storage) when missing; idempotent across processes. */
export async function ensureStream(jsm: JetStreamManager, name: string, subjects: string[], maxAgeSeconds: number, workQueue = false): Promise<void> {
  try {
    await jsm.streams.info(name);
    return;
  } catch {
    // not there yet
  }
  try {
    await jsm.streams.add({
      name,
      subjects,
      storage: StorageType.File,
      max_age: nanos(maxAgeSeconds * 1000),
      retention: workQueue ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
      // Republished copies (edge retries after a lost ack, a NATS restart) are dropped by Nats-Msg-Id inside this window.
      duplicate_window: nanos(Math.min(maxAgeSeconds, 600) * 1000),
    });
  } catch (e) {
    if (!/already in use|exists/i.test((e as Error).message)) throw e;
  }
}
