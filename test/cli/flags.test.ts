import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runCli } from '../helpers/cli.js';

// Bad number flags, unknown commands and options: `error [CODE]: …` naming the flag and
// value, exit 2, never a stack trace (issue #20, defect 3).
const base = ['train', '--data', '/nonexistent-data', '--out', '/nonexistent-out'];
const cases: Array<{ args: string[]; code: string; want: RegExp }> = [
  { args: [...base, '--iterations', '-5'], code: 'CONFIG_INVALID', want: /train\.iterations: .*\(got -5\) \(from --iterations\)/ },
  { args: [...base, '--batch-size', 'abc'], code: 'CONFIG_INVALID', want: /train\.batchSize: .*\(got "abc"\) \(from --batch-size\)/ },
  { args: [...base, '--seed', 'x'], code: 'CONFIG_INVALID', want: /train\.seed: .*\(got "x"\) \(from --seed\)/ },
  { args: [...base, '--eval-every', 'x'], code: 'CONFIG_INVALID', want: /train\.evalEveryIterations: .*\(got "x"\) \(from --eval-every\)/ },
  { args: [...base, '--checkpoint-every', '1.5'], code: 'CONFIG_INVALID', want: /train\.checkpointEveryIterations: .*\(got 1\.5\) \(from --checkpoint-every\)/ },
  { args: [...base, '--model-type', 'lstm'], code: 'CONFIG_INVALID', want: /train\.modelType: .*"lstm".*\(from --model-type\)/ },
  { args: ['predict', '--model', '/m', '--data', '/d', '--top', 'x'], code: 'INPUT_INVALID', want: /--top must be a positive integer, got 'x'/ },
  { args: ['tag', '/nonexistent.wav', '--top', '0'], code: 'INPUT_INVALID', want: /--top must be a positive integer, got '0'/ },
  { args: ['trian'], code: 'INPUT_INVALID', want: /unknown command 'trian'\n\(Did you mean train\?\)/ },
  { args: [...base, '--iteratons', '5'], code: 'INPUT_INVALID', want: /unknown option '--iteratons'\n\(Did you mean --iterations\?\)/ },
  { args: ['tag'], code: 'INPUT_INVALID', want: /missing required argument 'audio-file'/ },
  // Flags with a config key are config overrides (issue #10, item 2): the schema's message, key and flag.
  { args: ['run', '--source', 'stdin', '--port', '70000'], code: 'CONFIG_INVALID', want: /server\.port: .*65535.*\(got 70000\) \(from --port\)/ },
  { args: ['run', '--source', 'stdin', '--port', 'abc'], code: 'CONFIG_INVALID', want: /server\.port: .*\(got "abc"\) \(from --port\)/ },
  { args: ['tag', '/nonexistent.wav', '--engine', 'gpu'], code: 'CONFIG_INVALID', want: /engine\.kind: .*"auto"\|"tfjs"\|"onnx".*\(got "gpu"\) \(from --engine\)/ },
  { args: ['tag', '/nonexistent.wav', '--tfjs-backend', 'metal'], code: 'CONFIG_INVALID', want: /engine\.tfjsBackend: .*\(got "metal"\) \(from --tfjs-backend\)/ },
  { args: ['embed', '/nonexistent.wav', '--engine', 'gpu'], code: 'CONFIG_INVALID', want: /engine\.kind: .*\(got "gpu"\) \(from --engine\)/ },
  { args: [...base, '--balance', 'even'], code: 'CONFIG_INVALID', want: /train\.balance: .*"balance_in_batch"\|"no_balance".*\(got "even"\) \(from --balance\)/ },
];

for (const c of cases) {
  test(`earshot ${c.args.join(' ')} → error [${c.code}], exit 2`, async () => {
    const r = await runCli(c.args);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.startsWith(`error [${c.code}]: `), r.stderr);
    assert.match(r.stderr, c.want);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('--help and --version still exit 0', async () => {
  const h = await runCli(['train', '--help']);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /--iterations <n>/);
  const v = await runCli(['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
});

test('a bad key from the config file is not blamed on a flag that was not given', async () => {
  const r = await runCli(['run', '--source', 'stdin'], { env: { EARSHOT__SERVER__PORT: '70000' } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error \[CONFIG_INVALID\]: .*server\.port: /);
  assert.doesNotMatch(r.stderr, /from --port/);
});

test('help texts list the choices the config schema allows', async () => {
  const tag = await runCli(['tag', '--help']);
  assert.match(tag.stdout, /auto\|tfjs\|onnx/);
  assert.match(tag.stdout, /auto\|tensorflow\|wasm\|cpu/);
  const train = await runCli(['train', '--help']);
  assert.match(train.stdout, /balance_in_batch \| no_balance/);
});
