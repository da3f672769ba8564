// Settings view: the effective config (secrets masked) and the editable overrides:
// per-label thresholds and per-source label filters, applied live (PUT /api/settings).
import { useEffect, useState } from 'preact/hooks';

import { api, html } from './util.js';

const list = (s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function ThresholdRows({ rows, setRows, labels }) {
  const update = (i, k, v) => setRows(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  return html`<table class="thresholds">
    <caption class="sr-only">
      Per-label thresholds
    </caption>
    <thead>
      <tr>
        <th scope="col">label</th>
        <th scope="col">on ≥</th>
        <th scope="col">${'off <'}</th>
        <th scope="col"><span class="sr-only">remove</span></th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r, i) =>
          html`<tr key=${i}>
            <td>
              <input aria-label="label" list="settings-labels" value=${r.label} onInput=${(e) => update(i, 'label', e.currentTarget.value)} data-testid="threshold-label" />
            </td>
            <td>
              <input
                aria-label=${`${r.label || 'label'} on threshold`}
                type="number"
                min="0"
                max="1"
                step="any"
                value=${r.on}
                onInput=${(e) => update(i, 'on', e.currentTarget.value)}
                data-testid="threshold-on"
              />
            </td>
            <td>
              <input
                aria-label=${`${r.label || 'label'} off threshold`}
                type="number"
                min="0"
                max="1"
                step="any"
                value=${r.off}
                onInput=${(e) => update(i, 'off', e.currentTarget.value)}
                data-testid="threshold-off"
              />
            </td>
            <td>
              <button type="button" onClick=${() => setRows(rows.filter((_, j) => j !== i))} aria-label=${`remove ${r.label}`}>✕</button>
            </td>
          </tr>`,
      )}
    </tbody>
    <datalist id="settings-labels">${labels.map((l) => html`<option value=${l} />`)}</datalist>
  </table>`;
}

function toRows(labels = {}) {
  return Object.entries(labels).map(([label, t]) => ({
    label,
    on: t.onThreshold ?? '',
    off: t.offThreshold ?? '',
  }));
}

function fromRows(rows) {
  const out = {};
  for (const r of rows) {
    if (!r.label.trim()) continue;
    const t = {};
    if (r.on !== '') t.onThreshold = Number(r.on);
    if (r.off !== '') t.offThreshold = Number(r.off);
    out[r.label.trim()] = t;
  }
  return out;
}

export default function SettingsView({ token, labels }) {
  const [data, setData] = useState(undefined);
  const [rows, setRows] = useState([]);
  const [filters, setFilters] = useState({});
  const [msg, setMsg] = useState(undefined);
  const load = () =>
    api(token, '/api/settings')
      .then((b) => {
        setData(b);
        setRows(toRows(b.overrides.events?.labels));
        setFilters(
          Object.fromEntries(
            b.sources.map((s) => {
              const o = b.overrides.sources?.[s.id] ?? {};
              return [
                s.id,
                {
                  include: (o.include ?? []).join(', '),
                  exclude: (o.exclude ?? []).join(', '),
                },
              ];
            }),
          ),
        );
      })
      .catch((e) => setMsg({ error: true, text: e.message }));
  useEffect(() => {
    void load();
  }, [token]);
  if (!data) return html`<p class="muted">${msg?.text ?? 'Loading settings…'}</p>`;
  const save = async (e) => {
    e.preventDefault();
    const sources = {};
    for (const [id, f] of Object.entries(filters)) {
      const o = {};
      if (list(f.include).length) o.include = list(f.include);
      if (list(f.exclude).length) o.exclude = list(f.exclude);
      if (Object.keys(o).length) sources[id] = o;
    }
    const body = {
      events: { labels: fromRows(rows) },
      ...(Object.keys(sources).length ? { sources } : {}),
    };
    setMsg({ text: 'Saving…' });
    try {
      await api(token, '/api/settings', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      setMsg({ text: `Applied live and saved to ${data.overridesPath}.` });
      await load();
    } catch (err) {
      setMsg({ error: true, text: err.message });
    }
  };
  return html`<div class="settings">
    <form onSubmit=${save} aria-labelledby="edit-title">
      <h2 id="edit-title">Event thresholds and filters</h2>
      ${data.editable ? null : html`<p class="muted">Read-only: the daemon was started without a config file, so there is nowhere to save changes.</p>`}
      <fieldset disabled=${!data.editable}>
        <legend>Per-label thresholds (all sources; default on ${data.config.events.onThreshold}, off ${data.config.events.offThreshold})</legend>
        <${ThresholdRows} rows=${rows} setRows=${setRows} labels=${labels} />
        <button type="button" onClick=${() => setRows([...rows, { label: '', on: '', off: '' }])} data-testid="threshold-add">Add label</button>
      </fieldset>
      <fieldset disabled=${!data.editable}>
        <legend>Per-source label filters (comma-separated names or ontology ids)</legend>
        ${Object.entries(filters).map(
          ([id, f]) =>
            html`<div class="source-filter" key=${id}>
              <strong>${id}</strong>
              <label>only <input value=${f.include} placeholder="all labels" onInput=${(e) => setFilters({ ...filters, [id]: { ...f, include: e.currentTarget.value } })} /></label>
              <label>never <input value=${f.exclude} placeholder="none" onInput=${(e) => setFilters({ ...filters, [id]: { ...f, exclude: e.currentTarget.value } })} /></label>
            </div>`,
        )}
      </fieldset>
      <button type="submit" disabled=${!data.editable} data-testid="settings-save">Apply and save</button>
      <p role="status" class=${msg?.error ? 'error' : 'muted'} data-testid="settings-status">${msg?.text ?? ''}</p>
    </form>
    <section aria-labelledby="cfg-title">
      <h2 id="cfg-title">Effective configuration</h2>
      <p class="muted">
        Secrets are masked. Overrides file:
        <code>${data.overridesPath ?? '(none)'}</code>
      </p>
      <pre class="config" tabindex="0" aria-label="effective configuration">${JSON.stringify(data.config, null, 2)}</pre>
    </section>
  </div>`;
}
