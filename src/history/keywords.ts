import { readFileSync } from 'node:fs';

import { EarshotError } from '../errors.js';
import { ontologyPathFor } from '../server/ontology.js';

interface Node {
  readonly id: string;
  readonly name: string;
  /** The display name split at commas ("Chink, clink"): each part is a synonym. */
  readonly synonyms: readonly string[];
  readonly description: string;
  readonly childIds: readonly string[];
}

export interface ResolvedLabel {
  readonly labelId: string;
  readonly label: string;
  /** How the query reached it: name, synonym, description, or branch of <parent>. */
  readonly via: string;
}

export interface QueryResolution {
  readonly query: string;
  readonly labels: readonly ResolvedLabel[];
}

const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
const words = (s: string) => new Set(norm(s).split(' ').filter(Boolean));
/** "dogs" finds "dog", "barking" finds "bark": a light plural/-ing stemmer. */
const stem = (w: string) => w.replace(/(ing|es|s)$/, '') || w;

/**
 * Reverse search by keyword over the AudioSet ontology. Tiers, first that matches wins:
 * 1. a display name or synonym equal to the query;
 * 2. names/synonyms containing every query word (stemmed);
 * 3. descriptions containing every query word (stemmed).
 * Each match brings its whole branch (child_ids, recursively): "dog" covers Bark, Howl,
 * Growling...; "vehicle" the Vehicle branch.
 */
export class KeywordIndex {
  private readonly nodes = new Map<string, Node>();

  constructor(nodes: readonly Node[]) {
    for (const n of nodes) this.nodes.set(n.id, n);
  }

  static load(path: string): KeywordIndex {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new EarshotError('DATA_NOT_FOUND', `ontology ${path} cannot be read: ${(e as Error).message} (set models.ontologyPath)`, { path });
    }
    if (!Array.isArray(raw)) throw new EarshotError('DATA_CORRUPT', `${path}: expected an array of ontology entries`, { path });
    return new KeywordIndex(
      raw.map((r: { id?: unknown; name?: unknown; description?: unknown; child_ids?: unknown }, i) => {
        if (typeof r.id !== 'string' || typeof r.name !== 'string') throw new EarshotError('DATA_CORRUPT', `${path}: entry ${i} lacks id/name`, { path });
        return {
          id: r.id,
          name: r.name,
          synonyms: r.name
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          description: typeof r.description === 'string' ? r.description : '',
          childIds: Array.isArray(r.child_ids) ? r.child_ids.filter((c): c is string => typeof c === 'string') : [],
        };
      }),
    );
  }

  resolve(query: string): QueryResolution {
    const q = norm(query);
    if (!q) throw new EarshotError('INPUT_INVALID', `search query '${query}' has no words`, { param: 'q' });
    const qs = [...words(q)].map(stem);
    const all = [...this.nodes.values()];
    const hasAll = (text: string) => {
      const w = new Set([...words(text)].map(stem));
      return qs.every((x) => w.has(x));
    };
    const tiers: [string, (n: Node) => boolean][] = [
      ['name', (n) => norm(n.name) === q],
      ['synonym', (n) => n.synonyms.some((s) => norm(s) === q || stem(norm(s)) === stem(q))],
      ['name words', (n) => n.synonyms.some(hasAll)],
      ['description', (n) => hasAll(n.description)],
    ];
    const out = new Map<string, ResolvedLabel>();
    for (const [via, pred] of tiers) {
      const hits = all.filter(pred);
      if (!hits.length) continue;
      for (const h of hits) this.addBranch(h, via, out);
      break;
    }
    return { query, labels: [...out.values()] };
  }

  private addBranch(root: Node, via: string, out: Map<string, ResolvedLabel>): void {
    const stack: [Node, string][] = [[root, via]];
    while (stack.length) {
      const [n, how] = stack.pop()!;
      if (out.has(n.id)) continue;
      out.set(n.id, { labelId: n.id, label: n.name, via: how });
      for (const c of n.childIds) {
        const child = this.nodes.get(c);
        if (child) stack.push([child, `branch of ${root.name}`]);
      }
    }
  }
}

/**
 * The keyword index for config models.ontologyPath, through the one resolver every reader
 * uses ('' = the shipped ontology, 'none' = undefined: label names only).
 */
export function keywordIndexFor(configured: string): KeywordIndex | undefined {
  const path = ontologyPathFor(configured);
  return path === undefined ? undefined : KeywordIndex.load(path);
}

/**
 * Label ids (or names) a query covers: the ontology's matches and their branches, plus the
 * query itself, so a label name or id still matches with no ontology (the store matches either).
 */
export function labelIdsFor(keywords: KeywordIndex | undefined, query: string): string[] {
  return [...new Set([...(keywords?.resolve(query).labels.map((l) => l.labelId) ?? []), query])];
}
