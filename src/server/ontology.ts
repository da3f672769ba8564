import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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

/** The AudioSet ontology shipped in the package (models/ontology, CC BY-SA 4.0), found from this module, not the working directory. */
export const SHIPPED_ONTOLOGY_PATH = fileURLToPath(new URL('../../models/ontology/ontology.json', import.meta.url));

/** config models.ontologyPath -> the file to read: '' = the shipped copy, 'none' = no ontology. */
export function ontologyPathFor(configured: string): string | undefined {
  if (configured === 'none') return undefined;
  return configured === '' ? SHIPPED_ONTOLOGY_PATH : configured;
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
