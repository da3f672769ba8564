import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import { readPth } from '../../src/models/import/pth.js';

test('a .pth whose containers nest 200k deep is MODEL_INVALID, not a stack overflow', () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-deep-'));
  try {
    const path = join(dir, 'deep.pth');
    // EMPTY_LIST x N then APPEND x (N-1): one list inside the next, built without recursion by the unpickler
    const script = `import zipfile,sys
n=200000
pkl=b'\\x80\\x02'+b']'*n+b'a'*(n-1)+b'.'
with zipfile.ZipFile(sys.argv[1],'w') as z: z.writestr('archive/data.pkl', pkl)`;
    execFileSync('/usr/bin/python3', ['-c', script, path]);
    assert.throws(() => readPth(path), (e) => isEarshotError(e, 'MODEL_INVALID') && /nest deeper than 64/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
