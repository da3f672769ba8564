import type { NatsConnection } from 'nats';

import type { ConfigObject } from '../config/load.js';
import { mergeConfig } from '../config/load.js';
import { EarshotError } from '../errors.js';
import { connectForever } from './nats.js';
import { token } from './wire.js';

/** JetStream KV bucket of pushed config: key `all` for every site, `<site>` for one (site wins over all). */
export const CONFIG_BUCKET = 'earshot_config';
export const ALL_SITES = 'all';

/** `earshot push-config`: stores a config object (overrides, validated by each daemon) under a site or `all`. */
export async function pushConfig(nc: NatsConnection, site: string, obj: ConfigObject): Promise<number> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new EarshotError('INPUT_INVALID', "pushed config must be an object (a config file's sections)", { site });
  const kv = await nc.jetstream().views.kv(CONFIG_BUCKET, { history: 5 });
  return kv.put(site === ALL_SITES ? ALL_SITES : token(site), JSON.stringify(obj));
}

export interface PushedConfigWatch {
  /** The merged pushed overrides now (all, then the site's own). */
  current(): ConfigObject;
  stop(): Promise<void>;
}

/**
 * A daemon's watch on the KV bucket: on every change of `all` or its own site key it
 * calls `apply` with the merged overrides; the daemon re-reads its config with them
 * through its reload path (a bad push is logged and the running config kept). A key
 * deleted on the hub removes its overrides. Reconnects on its own; never throws.
 */
export function watchPushedConfig(url: string, site: string, apply: (overrides: ConfigObject) => void, log: (line: string) => void): PushedConfigWatch {
  const own = token(site);
  const values = new Map<string, ConfigObject>();
  let stopped = false;
  let nc: NatsConnection | undefined;
  const merged = () => mergeConfig(values.get(ALL_SITES) ?? {}, values.get(own) ?? {}) as ConfigObject;
  void (async () => {
    nc = await connectForever(url, `earshot-config-${site}`);
    while (!stopped) {
      try {
        const kv = await nc.jetstream().views.kv(CONFIG_BUCKET, { history: 5 });
        // nats-server 2.9 watches one key filter: watch the bucket, keep `all` and ours.
        const it = await kv.watch();
        for await (const e of it) {
          if (stopped) break;
          if (e.key !== ALL_SITES && e.key !== own) continue;
          if (e.operation === 'PUT') {
            try {
              values.set(e.key, JSON.parse(e.string()) as ConfigObject);
            } catch (err) {
              log(`fleet: pushed config '${e.key}' is not JSON, ignored: ${(err as Error).message}`);
              continue;
            }
          } else values.delete(e.key);
          log(`fleet: config pushed for '${e.key}' (revision ${e.revision}); reloading`);
          apply(merged());
        }
      } catch (err) {
        if (stopped) break;
        log(`fleet: config watch failed (${(err as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, 2000).unref());
      }
    }
  })();
  return {
    current: merged,
    async stop() {
      stopped = true;
      await nc?.close().catch(() => undefined);
    },
  };
}
