import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import type { Browser, Page } from 'playwright-core';
import { parse } from 'yaml';

import { type DaemonProcess, startDaemonProcess } from '../e2e/daemon-process.js';
import { projectRoot } from '../helpers/shared.js';
import { type Msg, TestClient } from '../server/wsclient.js';
import { audioDuration, canvasStats, DESKTOP, launchChromium, PHONE, screenshot, speechWithGap } from './dashboard-fixture.js';

/**
 * The dashboard in real headless Chromium against `earshot run` (a child process) on a
 * looped file: English speech, then 2 s of digital silence (the minLevelDb gate makes it
 * `quiet`, which ends the Speech event, so events start and end every loop).
 */
const TOKEN = `tok-${Math.random().toString(36).slice(2)}`;
const root = mkdtempSync(join(tmpdir(), 'earshot-web-'));
let daemon: DaemonProcess;
let browser: Browser;
let page: Page;
let liveSpeechId: string | undefined;

before(async () => {
  const wav = speechWithGap(root, 2);
  daemon = await startDaemonProcess(
    {
      models: { ontologyPath: join(projectRoot, 'models/ontology/ontology.json') },
      server: { token: TOKEN },
      sources: [{ id: 'speech', kind: 'file', path: wav, loop: true, realtime: true, minLevelDb: -60 }],
      history: { flushSeconds: 0.2 },
      learn: { examplesDir: join(root, 'examples') },
      clips: { preRollSeconds: 1, postRollSeconds: 0.5, maxSeconds: 10, ringMarginSeconds: 3 },
    },
    root,
  );
  browser = await launchChromium();
  // the pipeline is warm once the first event is in history: "within 5 s" then measures the page
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await fetch(`${daemon.http}/api/events?limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    if (r.ok && ((await r.json()) as { events: unknown[] }).events.length > 0) break;
    if (Date.now() > deadline) throw new Error(`no event within 60 s: ${daemon.stderr()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
});

after(async () => {
  await browser?.close();
  await daemon?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('a wrong token shows the login form and no data', async () => {
  const ctx = await browser.newContext({ viewport: PHONE });
  const p = await ctx.newPage();
  const api: number[] = [];
  let frames = 0;
  p.on('response', (r) => {
    if (/\/(api|clips)\//.test(new URL(r.url()).pathname) || new URL(r.url()).pathname === '/healthz') api.push(r.status());
  });
  p.on('websocket', (ws) => ws.on('framereceived', () => frames++));
  await p.goto(`${daemon.http}/?token=wrong-${TOKEN}`);
  await p.getByTestId('login').waitFor();
  assert.match(await p.getByTestId('login').innerText(), /not accepted/);
  assert.equal(await p.getByTestId('live-labels').count(), 0);
  assert.equal(await p.getByTestId('spectrogram').count(), 0);
  assert.equal(await p.getByTestId('events').count(), 0);
  assert.ok(api.length > 0 && api.every((s) => s === 401), `API statuses ${api.join(',')}`);
  assert.equal(frames, 0, 'the WebSocket must not deliver anything without the token');
  await screenshot(p, 'login-phone');
  // the right token typed into the form gets in
  await p.fill('#token', TOKEN);
  await p.click('button[type=submit]');
  await p.getByTestId('live-labels').waitFor();
  await ctx.close();
});

test('live: the top label shows Speech within 5 s of opening the page', async () => {
  // bypassCSP only lets the test evaluate its probes (strings); the login test runs under the page's CSP
  const ctx = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
  page = await ctx.newPage();
  const opened = Date.now();
  await page.goto(`${daemon.http}/?token=${TOKEN}`);
  await page.waitForFunction(`document.querySelector('[data-testid="live-labels"] li .name')?.textContent === 'Speech'`, undefined, { timeout: 5000 });
  assert.ok(Date.now() - opened <= 5000);
  assert.ok(await page.getByTestId('live-labels').getByText('Speech', { exact: true }).isVisible());
  // the token left the address bar for localStorage
  assert.ok(!page.url().includes('token='), page.url());
  assert.equal(await page.evaluate(`localStorage.getItem('earshot.token')`), TOKEN);
});

test('live: the spectrogram canvas is painted and scrolls', async () => {
  const sel = '[data-testid="spectrogram"]';
  await page.waitForFunction(`Number(document.querySelector('${sel}').dataset.t ?? 0) > 0`, undefined, { timeout: 10_000 });
  await page.waitForTimeout(1500);
  const a = await canvasStats(page, sel);
  await page.waitForTimeout(1500);
  const b = await canvasStats(page, sel);
  assert.ok(b.painted > 0.05, `painted fraction ${b.painted}`);
  assert.ok(b.distinct > 20, `${b.distinct} distinct colours`);
  const moved = a.sample.reduce((s, v, i) => s + Math.abs(v - b.sample[i]!), 0);
  assert.ok(moved > 0, 'the spectrogram did not change in 1.5 s');
});

test('live: an event appears in the timeline; level meter and health are filled', async () => {
  const row = page.locator('[data-testid="timeline"] .recent li[data-label="Speech"]').first();
  await row.waitFor({ timeout: 20_000 });
  liveSpeechId = (await row.getAttribute('data-event-id')) ?? undefined;
  assert.ok(liveSpeechId);
  assert.ok((await page.locator('[data-testid="timeline"] .lane .ev').count()) >= 1);
  // during speech (the gap in the file is digital silence, the meter's floor)
  await page.waitForFunction(`Number(document.querySelector('[role="meter"]').getAttribute('aria-valuenow')) > -60`, undefined, { timeout: 10_000 });
  await page.waitForFunction(`/ms$/.test(document.querySelectorAll('.health dd')[3]?.textContent ?? '')`, undefined, { timeout: 10_000 });
  assert.notEqual(await page.locator('.health dd').nth(1).innerText(), '–');
  // live updates (labels, meter, spectrogram, events) move nothing: layout shift over 4 s of updates
  const shift = await page.evaluate<number>(`new Promise((resolve) => {
    let sum = 0;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) sum += e.value; }).observe({ type: 'layout-shift' });
    setTimeout(() => resolve(sum), 4000);
  })`);
  assert.ok(shift < 0.01, `layout shift ${shift} during live updates`);
  await screenshot(page, 'live-desktop');
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(600);
  await screenshot(page, 'live-phone');
  const overflow = await page.evaluate<number>(`document.documentElement.scrollWidth - document.documentElement.clientWidth`);
  assert.ok(overflow <= 0, `the phone layout scrolls sideways by ${overflow}px`);
  await page.setViewportSize(DESKTOP);
});

test('history: searching "speech" lists the event and its clip plays', async () => {
  assert.ok(liveSpeechId, 'needs the live event');
  await page.getByRole('tab', { name: 'History' }).click();
  await page.getByTestId('search').fill('speech');
  // the live view shows this run's ids (`speech:0:3`), or history's (`<run>/speech:0:3`) for events from before it opened
  const row = page.locator(`[data-testid="events"] li[data-event-id="${liveSpeechId}"], [data-testid="events"] li[data-event-id$="/${liveSpeechId}"]`);
  await page.getByTestId('search').press('Enter');
  await row.waitFor({ timeout: 10_000 });
  assert.match(await row.innerText(), /Speech/);
  // the clip is written once the event has ended (post-roll, ring margin); the page retries until then
  await row.getByRole('button', { name: 'Play clip' }).click();
  const deadline = Date.now() + 40_000;
  let duration = 0;
  while (Date.now() < deadline && !(duration > 0))
    duration = Number(
      await row
        .locator('audio')
        .evaluate(audioDuration)
        .catch(() => 0),
    );
  if (!(duration > 0)) {
    const src =
      (await row
        .locator('audio')
        .getAttribute('src')
        .catch(() => null)) ?? '(no audio element)';
    const r = src.startsWith('/') ? await fetch(`${daemon.http}${src}`) : undefined;
    assert.fail(`clip duration ${duration}: ${src} -> HTTP ${r?.status} ${r ? await r.text().then((t) => t.slice(0, 200)) : ''}`);
  }
  const img = row.locator('.clip img');
  await page.waitForFunction(`document.querySelector('.clip img')?.complete`);
  assert.ok((await page.evaluate<number>(`document.querySelector('.clip img').naturalWidth`)) > 0, 'clip spectrogram image');
  // 👎 calls POST /api/feedback and shows the API's answer on the row: either the example it filed
  // under background/ or the API's error (test/learn/feedback-http.test.ts covers the files written)
  await row.getByRole('button', { name: '👎: Speech' }).click();
  await row.getByRole('status').waitFor({ timeout: 10_000 });
  const answer = await row.getByRole('status').innerText();
  if (/background/.test(answer)) assert.ok(existsSync(join(root, 'examples', 'background')), `filed: ${answer}`);
  else assert.match(answer, /clip .* (holds no audio|cannot be read)|no finished clip/, answer);
  await row.getByRole('button', { name: 'More like this' }).click();
  await page.waitForFunction(`/More like/.test(document.querySelector('#res-title')?.textContent ?? '')`);
  await page.locator('[data-testid="events"] li').first().waitFor();
  await page.getByTestId('search').press('Enter');
  await row.waitFor();
  // the day x hour heatmap counts this run's events in the current hour
  await page
    .waitForFunction(`[...document.querySelectorAll('.heatmap td')].some((td) => / [1-9][0-9]* events$/.test(td.getAttribute('aria-label') ?? ''))`, undefined, { timeout: 10_000 })
    .catch(async (e: Error) => {
      throw new Error(`${e.message}: ${await page.locator('.heatmap').innerHTML()}`);
    });
  await screenshot(page, 'history-desktop');
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(400);
  await screenshot(page, 'history-phone');
  await page.setViewportSize(DESKTOP);
});

test('settings: a threshold edit changes what the next events are, live, and persists next to the config', async () => {
  const ws = await TestClient.connect(`${daemon.ws}?token=${TOKEN}`);
  try {
    await ws.request({ type: 'subscribe', kinds: ['scores', 'events'], topK: 10 }, 'subscribed');
    // a label the speech scores well below the default 0.5: it starts no events today
    const frames = () => ws.messages.filter((m) => m.type === 'scores') as (Msg & { top: { label: string; score: number }[]; t: number })[];
    await ws.waitFor(() => frames().filter((f) => f.top[0]?.label === 'Speech').length >= 4, 30_000);
    const best = new Map<string, number>();
    for (const f of frames()) for (const l of f.top) best.set(l.label, Math.max(best.get(l.label) ?? 0, l.score));
    const candidate = [...best].filter(([l, s]) => l !== 'Speech' && s >= 0.01 && s < 0.45).sort((a, b) => b[1] - a[1])[0];
    assert.ok(candidate, `no second label in ${JSON.stringify([...best])}`);
    const other = candidate[0];
    // below its peak on speech, so the next speech starts it
    const on = Math.round(candidate[1] * 400) / 1000;
    const off = Math.round(on * 400) / 1000;
    assert.ok(!ws.messages.some((m) => m.type === 'event.start' && m.label === other));

    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByTestId('threshold-add').click();
    await page.getByTestId('threshold-add').click();
    await page.getByTestId('threshold-label').nth(0).fill('Speech');
    await page.getByTestId('threshold-on').nth(0).fill('1');
    await page.getByTestId('threshold-label').nth(1).fill(other);
    await page.getByTestId('threshold-on').nth(1).fill(String(on));
    await page.getByTestId('threshold-off').nth(1).fill(String(off));
    await screenshot(page, 'settings-desktop');
    await page.getByTestId('settings-save').click();
    await page.waitForFunction(`!/^(Saving…)?$/.test(document.querySelector('[data-testid="settings-status"]').textContent)`, undefined, { timeout: 10_000 });
    assert.match(await page.getByTestId('settings-status').innerText(), /Applied live/);
    const from = ws.messages.length;
    const tApplied = frames().at(-1)!.t;

    // the next events: the lowered label starts one; Speech, now at 1.0, starts none after the change
    const started = await ws.waitFor((m) => m.type === 'event.start' && m.label === other && (m.start as number) >= tApplied - 1, 30_000, from);
    await ws.waitFor(() => (frames().at(-1)?.t ?? 0) > tApplied + 8, 30_000);
    const speechAfter = ws.messages.slice(from).filter((m) => m.type === 'event.start' && m.label === 'Speech' && (m.start as number) > tApplied);
    assert.deepEqual(speechAfter, []);
    assert.ok(started);
    // the page shows the new label's event too
    await page.getByRole('tab', { name: 'Live' }).click();
    await page.locator(`[data-testid="timeline"] .recent li[data-label="${other}"]`).first().waitFor({ timeout: 10_000 });

    const saved = parse(readFileSync(daemon.configPath.replace(/\.yaml$/, '.overrides.yaml'), 'utf8')) as { events: { labels: Record<string, { onThreshold: number }> } };
    assert.equal(saved.events.labels.Speech!.onThreshold, 1);
    assert.equal(saved.events.labels[other]!.onThreshold, on);
    // secrets are masked in the effective config the page shows
    await page.getByRole('tab', { name: 'Settings' }).click();
    const shown = await page.locator('pre.config').innerText();
    assert.ok(!shown.includes(TOKEN) && shown.includes('"token": "********"'));
    await page.setViewportSize(PHONE);
    await screenshot(page, 'settings-phone');
  } finally {
    await ws.close();
  }
});

test('screenshots were written', () => {
  for (const n of ['login-phone', 'live-desktop', 'live-phone', 'history-desktop', 'history-phone', 'settings-desktop', 'settings-phone']) {
    assert.ok(existsSync(join(projectRoot, 'test/.tmp/screens', `${n}.png`)), n);
  }
});
