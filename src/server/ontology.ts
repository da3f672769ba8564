import { readFileSync } from 'node:fs';
import { EarshotError } from '../errors.js';

export interface OntologyNode {
  readonly id: string;
  readonly name: string;
  readonly childIds: readonly string[];
}

/** AudioSet ontology: resolves a node (by id or name) to itself plus all descendants. */
export class Ontology {
  private readonly byId = new Map<string, OntologyNode>();
  private readonly byName = new Map<string, OntologyNode>();

  constructor(nodes: readonly OntologyNode[]) {
    for (const n of nodes) {
      this.byId.set(n.id, n);
      this.byName.set(n.name.toLowerCase(), n);
    }
  }

  /** Display names of every node (for "did you mean" suggestions). */
  names(): string[] {
    return [...this.byId.values()].map((n) => n.name);
  }

  find(term: string): OntologyNode | undefined {
    return this.byId.get(term) ?? this.byName.get(term.toLowerCase());
  }

  /** Ids of `term` and every descendant; cycles (none in AudioSet, but cheap to guard) are cut. */
  descendants(term: string): Set<string> {
    const out = new Set<string>();
    const root = this.find(term);
    if (!root) return out;
    const stack = [root.id];
    while (stack.length) {
      const id = stack.pop()!;
      if (out.has(id)) continue;
      out.add(id);
      for (const c of this.byId.get(id)?.childIds ?? []) stack.push(c);
    }
    return out;
  }
}

export function parseOntology(text: string, path = 'ontology.json'): Ontology {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new EarshotError('DATA_CORRUPT', `${path} is not JSON: ${(e as Error).message}`, { path });
  }
  if (!Array.isArray(raw)) throw new EarshotError('DATA_CORRUPT', `${path}: expected an array of ontology entries`, { path });
  const nodes = raw.map((r: unknown, i) => {
    const o = r as { id?: unknown; name?: unknown; child_ids?: unknown };
    if (typeof o.id !== 'string' || typeof o.name !== 'string') throw new EarshotError('DATA_CORRUPT', `${path}: entry ${i} lacks id/name`, { path });
    const kids = Array.isArray(o.child_ids) ? o.child_ids.filter((c): c is string => typeof c === 'string') : [];
    return { id: o.id, name: o.name, childIds: kids };
  });
  return new Ontology(nodes);
}

export function loadOntology(path: string): Ontology {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new EarshotError('DATA_NOT_FOUND', `ontology file ${path} cannot be read: ${(e as Error).message}`, { path });
  }
  return parseOntology(text, path);
}
