import assert from 'node:assert/strict';
import { test } from 'node:test';

import { niceTicks, trainingCurveSvg } from '../../src/train/report.js';

// Issue #20 gap 7: SVG reports had ticks like 0.137, clipped right-axis labels and no word about the cut start.
test('niceTicks: 1/2/5 x 10^k steps covering the range', () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 0.0683), [0, 0.02, 0.04, 0.06, 0.08]);
  assert.deepEqual(niceTicks(0, 2200), [0, 500, 1000, 1500, 2000, 2500]);
  assert.deepEqual(niceTicks(3, 3), [3]);
});

test('training curve: nice loss ticks, right-axis labels inside the picture, a note where the start is cut', () => {
  const history = Array.from({ length: 200 }, (_, i) => ({ iteration: i + 1, loss: i < 4 ? 0.7 : 0.05 + 0.01 / (i + 1), ...(i % 50 === 49 ? { valMAP: 0.1 + i / 1000 } : {}) }));
  const svg = trainingCurveSvg(history);
  const width = Number(/width="(\d+)"/.exec(svg)![1]);
  const left = [...svg.matchAll(/<text x="54" y="[\d.]+" text-anchor="end">([\d.]+)<\/text>/g)].map((m) => Number(m[1]));
  assert.deepEqual(left, [0, 0.02, 0.04, 0.06]);
  const right = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" fill="#ff7f0e">([\d.]+)<\/text>/g)];
  assert.equal(right.length, 6);
  for (const m of right) assert.ok(Number(m[1]) + 6 * m[2]!.length <= width, `label ${m[2]} at x ${m[1]} is clipped (width ${width})`);
  assert.match(svg, /loss of the first 4 iterations \(up to 0\.700\) is above the scale and not drawn/);
  assert.doesNotMatch(trainingCurveSvg(history.slice(10)), /not drawn/);
});
