import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { projectRoot, sharedPath } from '../helpers/shared.js';

/**
 * The README cannot drift from the code (issue #20): every ```sh block after a
 * `<!-- docs-test -->` line runs, command by command, in a fresh clone of the committed
 * tree with ../shared beside it. A command must exit 0; a trailing `# => TEXT` must
 * appear in its output. `sudo` lines are the CI image's job (.ci/apt-packages.txt).
 * `npm ci` runs for real with EARSHOT_DOCS_NPM_CI=1; otherwise the clone borrows this
 * checkout's node_modules and runs what `npm ci` would then do (`npm run build`).
 */
export interface DocCommand {
  readonly line: number;
  readonly command: string;
  readonly expect?: string;
}

export function docCommands(markdown: string): DocCommand[] {
  const lines = markdown.split('\n');
  const out: DocCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '<!-- docs-test -->') continue;
    assert.match(lines[i + 1] ?? '', /^```(sh|bash)\s*$/, `README line ${i + 2}: a docs-test marker must precede a sh block`);
    let j = i + 2;
    let pending = '';
    let start = j;
    for (; j < lines.length && !lines[j]!.startsWith('```'); j++) {
      const l = lines[j]!;
      if (pending === '') start = j + 1;
      if (l.endsWith('\\')) {
        pending += l.slice(0, -1) + ' ';
        continue;
      }
      const full = (pending + l).trim();
      pending = '';
      if (full === '' || full.startsWith('#')) continue;
      const m = /\s#\s*=>\s*(.+)$/.exec(full);
      const command = full.replace(/\s#.*$/, '').trim();
      out.push({ line: start, command, ...(m ? { expect: m[1]!.trim() } : {}) });
    }
    i = j;
  }
  return out;
}

let root = '';
let clone = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'earshot-docs-'));
  clone = join(root, 'earshot');
  const c = spawnSync('git', ['clone', '-q', '--no-hardlinks', projectRoot, clone], { encoding: 'utf8' });
  assert.equal(c.status, 0, c.stderr);
  symlinkSync(realpathSync(sharedPath()), join(root, 'shared'));
});
after(() => rmSync(root, { recursive: true, force: true }));

test('README: the marked set-up, file job, tag, features, embed and eval commands run as written', { timeout: 3_600_000 }, () => {
  const commands = docCommands(readFileSync(join(clone, 'README.md'), 'utf8'));
  const text = commands.map((c) => c.command).join('\n');
  for (const want of ['npm ci', 'earshot run --source file:', 'earshot tag', 'earshot features', 'earshot embed', 'fixture:vggish', 'earshot eval']) {
    assert.ok(text.includes(want), `the README's runnable blocks cover "${want}"`);
  }
  const env = { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', EARSHOT_CONFIG: '' };
  for (const c of commands) {
    if (c.command.startsWith('sudo ')) continue;
    let command = c.command;
    if (/^npm ci\b/.test(command) && process.env.EARSHOT_DOCS_NPM_CI !== '1') {
      symlinkSync(realpathSync(join(projectRoot, 'node_modules')), join(clone, 'node_modules'));
      command = 'npm run build';
    }
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', command], { cwd: clone, env, encoding: 'utf8', timeout: 1_200_000, maxBuffer: 256 << 20 });
    const where = `README line ${c.line}: ${c.command}`;
    assert.equal(r.status, 0, `${where}\nexit ${r.status} ${r.signal ?? ''}\n${r.stderr.slice(-2000)}`);
    if (c.expect !== undefined) assert.ok((r.stdout + r.stderr).includes(c.expect), `${where}\nmissing "${c.expect}" in:\n${r.stdout.slice(0, 2000)}`);
  }
});
