import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { type Browser, chromium, type Page } from 'playwright-core';

import { projectRoot, sharedPath } from '../helpers/shared.js';

export const CHROMIUM = process.env.EARSHOT_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENS = join(projectRoot, 'test', '.tmp', 'screens');

/** Real speech (the golden English sentence) followed by `gapSeconds` of digital silence, 16 kHz mono. */
export function speechWithGap(dir: string, gapSeconds: number): string {
  const out = join(dir, 'speech-gap.wav');
  const r = spawnSync('sox', [sharedPath('golden/efficientat/speech_en.wav'), '-r', '16000', '-c', '1', out, 'pad', '0', String(gapSeconds)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sox failed: ${r.stderr}`);
  return out;
}

/** Headless Debian chromium (installed via .ci/apt-packages.txt); root in CI containers needs --no-sandbox. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENS, { recursive: true });
  const path = join(SCREENS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Code run inside the page is written as source text: the project compiles without the DOM
 * library (it is a Node daemon), so browser globals are not typed here.
 */
const CANVAS_STATS = `(sel) => {
  const c = document.querySelector(sel);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let painted = 0;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] + d[i + 1] + d[i + 2] > 30) painted++;
    colours.add((d[i] >> 4) * 256 + (d[i + 1] >> 4) * 16 + (d[i + 2] >> 4));
  }
  const sample = [];
  for (let x = 0; x < c.width; x += 8) {
    let s = 0;
    for (let y = 0; y < c.height; y++) s += d[(y * c.width + x) * 4];
    sample.push(Math.round(s / c.height));
  }
  return { painted: painted / (d.length / 4), distinct: colours.size, sample };
}`;

/** Pixel statistics of a canvas: the painted fraction, distinct colours, and every 8th column's mean (shifts when it scrolls). */
export function canvasStats(page: Page, selector: string): Promise<{ painted: number; distinct: number; sample: number[] }> {
  return page.evaluate(`(${CANVAS_STATS})(${JSON.stringify(selector)})`);
}

interface MediaLike {
  readonly readyState: number;
  readonly duration: number;
  addEventListener(type: string, listener: () => void, options?: { once?: boolean }): void;
}

/** Runs in the page (passed as a function: playwright serialises it): an <audio>'s duration once its metadata loaded, 0 on error or after 5 s. */
export function audioDuration(a: MediaLike): Promise<number> {
  return new Promise((resolve) => {
    if (a.readyState >= 1) return resolve(a.duration);
    a.addEventListener('loadedmetadata', () => resolve(a.duration), { once: true });
    a.addEventListener('error', () => resolve(0), { once: true });
    setTimeout(() => resolve(0), 5000);
  });
}
