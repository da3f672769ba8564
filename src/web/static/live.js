// Live view: per source, the top labels, a scrolling spectrogram, a level meter with its
// recent history, the last hour's events and the source's health.
import { useEffect, useRef, useState } from 'preact/hooks';

import { api, b64bytes, colormap, fmtTime, html, pct } from './util.js';

const TOP = 5;
const HOUR = 3600_000;
const LEVEL_MIN_DB = -90;
const LEVEL_POINTS = 240;
const SPEC_COLUMNS = 480;

/** Draws spectrogram messages onto a canvas: shift left, paint the new columns on the right. */
function useSpectrogram(feed, source, canvas) {
  useEffect(() => {
    let lo;
    let hi;
    let img;
    return feed.on((m) => {
      if (m.type !== 'spectrogram' || m.source !== source) return;
      const c = canvas.current;
      if (!c) return;
      if (c.height !== m.bands) {
        c.height = m.bands;
        c.width = SPEC_COLUMNS;
        img = undefined;
      }
      const ctx = c.getContext('2d');
      // a slowly adapting range: a message's own lo/hi would make every frame the same brightness
      lo = lo === undefined ? m.lo : Math.min(m.lo, lo * 0.98 + m.lo * 0.02);
      hi = hi === undefined ? m.hi : Math.max(m.hi, hi * 0.98 + m.hi * 0.02);
      const data = b64bytes(m.data);
      const n = Math.min(m.frames, c.width);
      ctx.drawImage(c, -n, 0);
      if (!img || img.width !== n) img = ctx.createImageData(n, m.bands);
      const scale = (m.hi - m.lo) / 255;
      const span = hi - lo || 1;
      for (let f = m.frames - n; f < m.frames; f++) {
        const x = f - (m.frames - n);
        for (let b = 0; b < m.bands; b++) {
          const v = m.lo + data[f * m.bands + b] * scale;
          const k = Math.max(0, Math.min(255, Math.round(((v - lo) / span) * 255)));
          const y = m.bands - 1 - b; // low bands at the bottom
          const o = (y * n + x) * 4;
          img.data[o] = colormap[k * 3];
          img.data[o + 1] = colormap[k * 3 + 1];
          img.data[o + 2] = colormap[k * 3 + 2];
          img.data[o + 3] = 255;
        }
      }
      ctx.putImageData(img, c.width - n, 0);
      c.dataset.t = String(m.t);
    });
  }, [feed, source]);
}

let uplot;
/** uPlot is a classic script (its minified build): loaded on first use, after the live view painted. */
function loadUplot() {
  uplot ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/vendor/uplot.js';
    s.onload = () => resolve(window.uPlot);
    s.onerror = () => reject(new Error('uPlot did not load'));
    document.head.append(s);
  });
  return uplot;
}

/** uPlot line of RMS dBFS over the last LEVEL_POINTS hops; sized to its box (no layout shift). */
function LevelChart({ history }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    let ro;
    let gone = false;
    void loadUplot().then((UPlot) => {
      if (gone || !box.current) return;
      const width = Math.max(120, box.current.clientWidth);
      plot.current = new UPlot(
        {
          width,
          height: 72,
          legend: { show: false },
          cursor: { show: false },
          scales: { x: { time: false }, y: { range: [LEVEL_MIN_DB, 0] } },
          axes: [
            { show: false },
            {
              size: 36,
              splits: () => [-90, -60, -30, 0],
              values: (_u, v) => v.map((x) => `${x}`),
              stroke: '#9aa4b2',
              grid: { stroke: '#2a3340' },
              font: '10px system-ui',
            },
          ],
          series: [
            {},
            {
              stroke: '#4fc3f7',
              width: 1.5,
              fill: 'rgba(79,195,247,0.15)',
              points: { show: false },
            },
          ],
        },
        [[], []],
        box.current,
      );
      ro = new ResizeObserver(
        () =>
          box.current &&
          plot.current?.setSize({
            width: Math.max(120, box.current.clientWidth),
            height: 72,
          }),
      );
      ro.observe(box.current);
    });
    return () => {
      gone = true;
      ro?.disconnect();
      plot.current?.destroy();
    };
  }, []);
  useEffect(() => {
    plot.current?.setData([history.map((_, i) => i), history]);
  }, [history]);
  return html`<div class="level-chart" ref=${box} role="img" aria-label="level over the last two minutes, dBFS"></div>`;
}

function Labels({ top, t }) {
  const rows = Array.from({ length: TOP }, (_, i) => top[i]);
  return html`<ol class="labels" data-testid="live-labels" data-t=${t ?? ''} aria-label="current top labels" aria-live="off">
    ${rows.map((r, i) =>
      r
        ? html`<li key=${i} aria-label=${`${r.label} ${pct(r.score)}`}>
            <span class="name">${r.label}</span>
            <span class="track"><span class="bar" style=${`transform:scaleX(${Math.max(0.002, r.score)})`}></span></span>
            <span class="score">${pct(r.score)}</span>
          </li>`
        : html`<li key=${i} class="empty" aria-hidden="true"><span class="name"> </span><span class="track"></span><span class="score"></span></li>`,
    )}
  </ol>`;
}

function Meter({ levels }) {
  const db = levels?.rmsDb ?? LEVEL_MIN_DB;
  const frac = Math.max(0, Math.min(1, (db - LEVEL_MIN_DB) / -LEVEL_MIN_DB));
  return html`<div class="meter">
    <div
      class="meter-track"
      role="meter"
      aria-label="sound level"
      aria-valuemin=${LEVEL_MIN_DB}
      aria-valuemax="0"
      aria-valuenow=${Math.round(Math.max(LEVEL_MIN_DB, db))}
      aria-valuetext=${`${db.toFixed(1)} dBFS`}
    >
      <span class="meter-fill" style=${`clip-path:inset(0 ${((1 - frac) * 100).toFixed(1)}% 0 0)`}></span>
    </div>
    <dl class="readings">
      <div>
        <dt>level</dt>
        <dd>${levels ? `${db.toFixed(1)} dBFS` : '–'}</dd>
      </div>
      <div>
        <dt>loudness</dt>
        <dd>${levels ? levels.loudness.toFixed(2) : '–'}</dd>
      </div>
      <div>
        <dt>centroid</dt>
        <dd>${levels ? `${levels.centroidHz} Hz` : '–'}</dd>
      </div>
      <div>
        <dt>flatness</dt>
        <dd>${levels ? levels.flatness.toFixed(3) : '–'}</dd>
      </div>
    </dl>
  </div>`;
}

function Timeline({ events, now }) {
  const from = now - HOUR;
  const recent = events.slice(-6).reverse();
  return html`<div class="timeline" data-testid="timeline">
    <div class="lane" role="img" aria-label=${`${events.length} events in the last hour`}>
      ${events.map((e) => {
        const left = Math.max(0, (e.startMs - from) / HOUR);
        const right = Math.min(1, ((e.endMs ?? now) - from) / HOUR);
        return html`<span key=${e.id} class="ev" title=${`${e.label} ${fmtTime(e.startMs)}`} style=${`left:${left * 100}%;width:max(3px,${(right - left) * 100}%)`}></span>`;
      })}
      <span class="tick" style="left:0">−60 min</span><span class="tick" style="left:50%">−30</span><span class="tick end">now</span>
    </div>
    <ul class="recent" aria-label="latest events">
      ${recent.length === 0 ? html`<li class="muted">no events in the last hour</li>` : null}
      ${recent.map(
        (e) =>
          html`<li key=${e.id} data-event-id=${e.id} data-label=${e.label} data-start-ms=${e.startMs}>
            <time>${fmtTime(e.startMs)}</time> <strong>${e.label}</strong>
            <span class="muted">${pct(e.score)}${e.endMs ? '' : ' · ongoing'}</span>
          </li>`,
      )}
    </ul>
  </div>`;
}

function Health({ status, health }) {
  const state = status ?? health?.state ?? 'starting';
  return html`<dl class="health" aria-label="source health">
    <div>
      <dt>state</dt>
      <dd><span class=${`badge ${state}`}>${state}</span></dd>
    </div>
    <div>
      <dt>engine</dt>
      <dd>${health?.backend ?? '–'}</dd>
    </div>
    <div>
      <dt>model</dt>
      <dd>${health?.model ?? '–'}</dd>
    </div>
    <div>
      <dt>latency</dt>
      <dd>${health?.inferenceMs !== undefined ? `${health.inferenceMs} ms` : '–'}</dd>
    </div>
  </dl>`;
}

function SourceCard({ feed, token, source, health }) {
  const canvas = useRef(null);
  const [top, setTop] = useState(() => {
    const m = feed.last.get(`scores:${source.id}`);
    return m ? { top: m.top, t: m.t } : { top: [], t: undefined };
  });
  const [levels, setLevels] = useState(() => feed.last.get(`levels:${source.id}`));
  const [history, setHistory] = useState([]);
  const [status, setStatus] = useState(() => feed.last.get(`status:${source.id}`)?.state ?? source.state);
  const [events, setEvents] = useState([]);
  const [now, setNow] = useState(Date.now());
  useSpectrogram(feed, source.id, canvas);
  // the bench reads this: navigation start -> the first source's live view in the DOM
  useEffect(() => {
    if (!performance.getEntriesByName('earshot:live').length) performance.mark('earshot:live');
  }, []);
  useEffect(() => {
    const since = new Date(Date.now() - HOUR).toISOString();
    api(token, `/api/events?source=${encodeURIComponent(source.id)}&since=${encodeURIComponent(since)}&limit=500`)
      .then((b) =>
        setEvents((cur) => {
          const known = new Set(cur.map((e) => e.id));
          const old = b.events
            .filter((e) => e.time && !known.has(e.id))
            .map((e) => ({
              id: e.id,
              label: e.label,
              score: e.score,
              startMs: Date.parse(e.time),
              endMs: Date.parse(e.time) + (e.end - e.start) * 1000,
            }));
          return [...old.reverse(), ...cur];
        }),
      )
      .catch(() => undefined); // history off: the timeline starts empty
  }, [source.id]);
  useEffect(() => {
    const timer = setInterval(() => {
      setNow(Date.now());
      setEvents((cur) => (cur.length && cur[0].startMs < Date.now() - HOUR ? cur.filter((e) => (e.endMs ?? Date.now()) >= Date.now() - HOUR) : cur));
    }, 10_000);
    return () => clearInterval(timer);
  }, []);
  useEffect(
    () =>
      feed.on((m) => {
        if (m.source !== source.id) return;
        if (m.type === 'scores') setTop({ top: m.top, t: m.t });
        else if (m.type === 'levels') {
          setLevels(m);
          setHistory((h) => [...(h.length >= LEVEL_POINTS ? h.slice(1) : h), Math.max(LEVEL_MIN_DB, m.rmsDb)]);
        } else if (m.type === 'status') setStatus(m.state);
        else if (m.type === 'event.start') {
          const at = Date.now();
          setEvents((cur) => [
            ...cur,
            {
              id: m.id,
              label: m.label,
              score: m.score,
              startMs: at - (m.t - m.start) * 1000,
              endMs: null,
            },
          ]);
        } else if (m.type === 'event.end') {
          const at = Date.now();
          // an event older than the page came from history, with its run prefix (`<run>/<id>`)
          setEvents((cur) => cur.map((e) => (e.id === m.id || e.id.endsWith(`/${m.id}`) ? { ...e, score: m.score, endMs: at - (m.t - m.end) * 1000 } : e)));
        }
      }),
    [feed, source.id],
  );
  return html`<section class="card" aria-labelledby=${`src-${source.id}`}>
    <header>
      <h2 id=${`src-${source.id}`}>${source.id}</h2>
      <span class="muted">${source.kind}</span>
    </header>
    <${Health} status=${status} health=${health} />
    <${Labels} top=${top.top} t=${top.t} />
    <canvas
      class="spectrogram"
      data-testid="spectrogram"
      ref=${canvas}
      width=${SPEC_COLUMNS}
      height="64"
      role="img"
      aria-label=${`${source.id}: scrolling log-mel spectrogram, newest on the right`}
    ></canvas>
    <${Meter} levels=${levels} />
    <${LevelChart} history=${history} />
    <h3>Last hour</h3>
    <${Timeline} events=${events} now=${now} />
  </section>`;
}

export function LiveView({ feed, token }) {
  const [sources, setSources] = useState(feed.sources);
  const [health, setHealth] = useState({});
  useEffect(() => {
    const off = feed.on((m) => m.type === 'hello' && setSources(m.sources));
    // a hello that came between the first render and this effect
    setSources(feed.sources);
    return off;
  }, [feed]);
  useEffect(() => {
    let live = true;
    const poll = () =>
      // 503 (degraded) still carries the per-source health
      fetch('/healthz', {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      })
        .then((r) => r.json())
        .then((b) => live && b?.sources && setHealth(Object.fromEntries(b.sources.map((s) => [s.id, s]))))
        .catch(() => undefined);
    poll();
    const timer = setInterval(poll, 5000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [token]);
  if (!sources.length) return html`<p class="muted">Waiting for the daemon…</p>`;
  return html`<div class="grid">${sources.map((s) => html`<${SourceCard} key=${s.id} feed=${feed} token=${token} source=${s} health=${health[s.id]} />`)}</div>`;
}
