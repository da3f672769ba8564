// History view: events with filters, keyword search and "more like this", clip playback
// with the clip's spectrogram, and a day x hour heatmap.
import { useEffect, useState } from 'preact/hooks';

import { api, fmtDateTime, html, pct, withToken } from './util.js';

/**
 * Extra per-event buttons (the hook for feedback such as 👍/👎 from src/learn): push
 * `{ name, label, run(event, token) }`; each history event row shows them after "More like this".
 */
export const eventActions = [];

/** 👍/👎 (POST /api/feedback): the event's clip becomes a training example for `earshot learn`. */
const feedback = (correct) => async (e, token) => {
  const r = await api(token, '/api/feedback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ eventId: e.id, correct }) });
  return correct ? `saved as an example of ${r.class}` : 'saved as background (false alarm)';
};
eventActions.push({ name: 'confirm', label: '👍', run: feedback(true) }, { name: 'reject', label: '👎', run: feedback(false) });

/** Same rule as src/clips/manager.ts clipId: the clip of history event `<run>/<id>`. */
const clipBase = (eventId) => `/clips/${eventId.replace(/[^A-Za-z0-9._-]/g, '_')}`;

function Clip({ id, token }) {
  // a clip is written a little after its event ends (post-roll, ring margin): retry for a while
  const [attempt, setAttempt] = useState(0);
  const [failed, setFailed] = useState(false);
  const retry = () => (attempt < 15 ? setTimeout(() => setAttempt((a) => a + 1), 2000) : setFailed(true));
  if (failed) return html`<p class="muted">No clip for this event (clips off, filtered out, or not written).</p>`;
  const src = (ext) => withToken(`${clipBase(id)}.${ext}${attempt ? `?attempt=${attempt}` : ''}`, token);
  return html`<div class="clip">
    <audio key=${attempt} controls preload="metadata" src=${src('flac')} onError=${retry} aria-label="event clip"></audio>
    <img key=${`i${attempt}`} src=${src('png')} alt="spectrogram of the clip" width="480" height="128" />
  </div>`;
}

function EventRow({ e, token, open, onOpen, onLike }) {
  const [note, setNote] = useState('');
  const act = (a) =>
    Promise.resolve(a.run(e, token)).then(
      (m) => setNote(m ?? ''),
      (err) => setNote(err.message),
    );
  const when = e.time ? fmtDateTime(Date.parse(e.time)) : `${e.start.toFixed(1)} s`;
  return html`<li data-event-id=${e.id ?? ''} data-label=${e.label ?? ''}>
    <div class="row">
      <time>${when}</time>
      <strong>${e.label ?? 'similar moment'}</strong>
      ${e.id ? null : html`<span class="tag" title="a stored segment, not an event">moment ${e.start.toFixed(1)}–${e.end.toFixed(1)} s</span>`}
      <span class="muted">${e.source ?? e.file ?? ''}</span>
      <span class="score">${e.similarity !== undefined ? `sim ${pct(e.similarity)}` : pct(e.score)}</span>
      ${
        e.id
          ? html`<span class="actions">
              <button onClick=${() => onOpen(open ? undefined : e.id)} aria-expanded=${open}>${open ? 'Hide clip' : 'Play clip'}</button>
              <button onClick=${() => onLike(e)}>More like this</button>
              ${eventActions.map((a) => html`<button key=${a.name} aria-label=${`${a.label}: ${e.label}`} onClick=${() => act(a)}>${a.label}</button>`)}
              ${note ? html`<span class="muted" role="status">${note}</span>` : null}
            </span>`
          : null
      }
    </div>
    ${open ? html`<${Clip} id=${e.id} token=${token} />` : null}
  </li>`;
}

function Heatmap({ events }) {
  const days = [];
  const counts = new Map();
  for (const e of events) {
    if (!e.time) continue;
    const d = new Date(e.time);
    const day = d.toLocaleDateString([], { month: 'short', day: 'numeric' });
    if (!days.includes(day)) days.push(day);
    const k = `${day}|${d.getHours()}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const max = Math.max(1, ...counts.values());
  days.sort((a, b) => Date.parse(`${a} 2000`) - Date.parse(`${b} 2000`));
  return html`<table class="heatmap" aria-label="events per day and hour">
    <thead>
      <tr>
        <th scope="col">day</th>
        ${Array.from({ length: 24 }, (_, h) => html`<th scope="col">${h % 6 === 0 ? h : ''}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${
        days.length === 0
          ? html`<tr>
              <td colspan="25" class="muted">no events in range</td>
            </tr>`
          : null
      }
      ${days.map(
        (day) =>
          html`<tr>
            <th scope="row">${day}</th>
            ${Array.from({ length: 24 }, (_, h) => {
              const n = counts.get(`${day}|${h}`) ?? 0;
              return html`<td style=${`--a:${n / max}`} aria-label=${`${day} ${h}:00, ${n} events`} title=${`${day} ${h}:00 — ${n}`}></td>`;
            })}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export default function HistoryView({ token, labels, feed }) {
  const [filters, setFilters] = useState({
    label: '',
    source: '',
    since: '24h',
  });
  const [q, setQ] = useState('');
  const [result, setResult] = useState({
    title: 'Events',
    events: [],
    busy: true,
  });
  const [open, setOpen] = useState(undefined);
  const [heat, setHeat] = useState([]);
  const sources = feed.sources.map((s) => s.id);

  const load = async (title, path) => {
    setResult((r) => ({ ...r, busy: true }));
    try {
      const b = await api(token, path);
      setResult({ title, events: b.events ?? b.results ?? [], busy: false });
    } catch (e) {
      setResult({ title, events: [], busy: false, error: e.message });
    }
  };
  const params = (extra = {}) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v) p.set(k, v);
    return p.toString();
  };
  const listEvents = () => load('Events', `/api/events?${params({ limit: 200 })}`);
  const search = async (text) => {
    if (!text.trim()) return listEvents();
    // keyword search: the events whose label matches (with clips), then matching segments
    setResult((r) => ({ ...r, busy: true }));
    try {
      const base = { source: filters.source, since: filters.since };
      const [ev, seg] = await Promise.all([
        api(token, `/api/events?${new URLSearchParams({ ...clean(base), label: text.trim(), limit: '100' })}`),
        api(token, `/api/search?${new URLSearchParams({ ...clean(base), q: text.trim(), limit: '20' })}`).catch(() => ({ results: [] })),
      ]);
      setResult({
        title: `Results for “${text.trim()}”`,
        events: [...ev.events, ...seg.results.map((s) => ({ ...s, segment: true }))],
        busy: false,
      });
    } catch (e) {
      setResult({ title: 'Search', events: [], busy: false, error: e.message });
    }
  };
  const like = (e) => load(`More like ${e.label} at ${e.time ? fmtDateTime(Date.parse(e.time)) : e.start}`, `/api/search?${new URLSearchParams({ like: e.id, limit: '20' })}`);

  useEffect(() => {
    void listEvents();
  }, [filters]);
  useEffect(() => {
    api(token, `/api/events?${new URLSearchParams(clean({ label: filters.label, source: filters.source, since: '7d', limit: '1000' }))}`)
      .then((b) => setHeat(b.events))
      .catch(() => setHeat([]));
  }, [filters.label, filters.source]);

  const set = (k) => (e) => setFilters((f) => ({ ...f, [k]: e.currentTarget.value }));
  return html`<div class="history">
    <form class="filters" aria-label="event filters" onSubmit=${(e) => e.preventDefault()}>
      <label>Label <input list="label-names" value=${filters.label} onChange=${set('label')} placeholder="any" /></label>
      <label
        >Source
        <select value=${filters.source} onChange=${set('source')}>
          <option value="">all</option>
          ${sources.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </label>
      <label
        >Since
        <select value=${filters.since} onChange=${set('since')}>
          ${['1h', '6h', '24h', '7d', '30d'].map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </label>
      <datalist id="label-names">${labels.map((l) => html`<option value=${l} />`)}</datalist>
    </form>
    <form
      class="search"
      role="search"
      onSubmit=${(e) => {
        e.preventDefault();
        void search(q);
      }}
    >
      <label for="q" class="sr-only">Search events</label>
      <input id="q" type="search" data-testid="search" placeholder="Search: dog, glass, speech…" value=${q} onInput=${(e) => setQ(e.currentTarget.value)} />
      <button type="submit">Search</button>
    </form>
    <section aria-labelledby="res-title" aria-busy=${result.busy}>
      <h2 id="res-title">${result.title}</h2>
      ${result.error ? html`<p class="error" role="alert">${result.error}</p>` : null}
      <ul class="events" data-testid="events">
        ${!result.busy && !result.error && result.events.length === 0 ? html`<li class="muted">nothing found</li>` : null}
        ${result.events.map((e, i) => html`<${EventRow} key=${e.id ?? `s${i}`} e=${e} token=${token} open=${open === e.id && e.id !== undefined} onOpen=${setOpen} onLike=${like} />`)}
      </ul>
    </section>
    <section aria-labelledby="heat-title">
      <h2 id="heat-title">Day × hour, last 7 days${filters.label ? ` — ${filters.label}` : ''}</h2>
      <${Heatmap} events=${heat} />
    </section>
  </div>`;
}

function clean(o) {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== '' && v !== undefined));
}
