import { readdirSync, readFileSync } from 'node:fs';

/** Live (non-zombie) and zombie children of `parent`, from /proc. */
export function childProcesses(parent = process.pid): { pid: number; comm: string; state: string }[] {
  const out: { pid: number; comm: string; state: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // comm may contain spaces/parens: fields after the last ')' are fixed.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (Number(ppid) === parent) out.push({ pid: Number(name), comm, state: state! });
  }
  return out;
}

/** Waits (polling, bounded) until no child named `comm` remains - live or zombie. */
export async function waitNoChild(comm: string, limitMs = 10_000): Promise<{ pid: number; comm: string; state: string }[]> {
  const until = Date.now() + limitMs;
  for (;;) {
    const left = childProcesses().filter((p) => p.comm === comm);
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 20));
  }
}
