// The dashboard shell: token login, the WebSocket feed, and the Live / History / Settings views.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { LiveView } from './live.js';
import { api, AuthError, html, initialToken, storeToken } from './util.js';

/**
 * One WebSocket for the page: hello, scores, events, status, levels, spectrogram. Views
 * subscribe to it; spectrogram frames go straight to canvases (no re-render per frame).
 */
export class Feed {
  constructor(token) {
    this.token = token;
    this.listeners = new Set();
    this.sources = [];
    /** The newest scores/levels/status per source: views mounting later start from them. */
    this.last = new Map();
    this.closed = false;
    this.connect();
  }
  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  emit(msg) {
    for (const fn of this.listeners) fn(msg);
  }
  connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = this.token ? `?token=${encodeURIComponent(this.token)}` : '';
    const ws = new WebSocket(`${proto}//${location.host}/${q}`);
    this.ws = ws;
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === 'hello') {
        this.sources = msg.sources;
        ws.send(
          JSON.stringify({
            type: 'subscribe',
            topK: 5,
            latest: true,
            kinds: ['scores', 'events', 'status', 'levels', 'spectrogram'],
          }),
        );
      }
      if (msg.source && (msg.type === 'scores' || msg.type === 'levels' || msg.type === 'status')) this.last.set(`${msg.type}:${msg.source}`, msg);
      this.emit(msg);
    };
    ws.onclose = () => {
      this.emit({ type: 'disconnected' });
      if (!this.closed) setTimeout(() => this.connect(), 2000);
    };
  }
  close() {
    this.closed = true;
    this.ws?.close();
  }
}

function Login({ onToken, error }) {
  const [value, setValue] = useState('');
  return html`<main class="login" aria-labelledby="login-title">
    <form
      data-testid="login"
      onSubmit=${(e) => {
        e.preventDefault();
        onToken(value.trim());
      }}
    >
      <h1 id="login-title">earshot</h1>
      <p>This daemon needs its access token (server.token in the config).</p>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <label for="token">Token</label>
      <input id="token" type="password" autocomplete="current-password" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} required />
      <button type="submit">Sign in</button>
    </form>
  </main>`;
}

const TABS = [
  ['live', 'Live'],
  ['history', 'History'],
  ['settings', 'Settings'],
];

function tabFromHash() {
  const t = location.hash.slice(1);
  return TABS.some(([id]) => id === t) ? t : 'live';
}

function lazyView(name) {
  // history and settings load on first use: the live view paints without them
  return import(`./${name}.js`);
}

function Shell({ token, labels, onLogout }) {
  const [tab, setTab] = useState(tabFromHash());
  const [feed] = useState(() => {
    const f = firstFeed && firstFeed.token === token && !firstFeed.closed ? firstFeed : new Feed(token);
    firstFeed = undefined;
    return f;
  });
  const [views, setViews] = useState({});
  const [conn, setConn] = useState(feed.sources.length ? 'live' : 'connecting');
  useEffect(() => {
    const off = feed.on((m) => (m.type === 'hello' ? setConn('live') : m.type === 'disconnected' ? setConn('reconnecting') : null));
    if (feed.sources.length) setConn('live');
    return off;
  }, [feed]);
  useEffect(() => () => feed.close(), [feed]);
  useEffect(() => {
    const f = () => setTab(tabFromHash());
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  useEffect(() => {
    if (tab === 'live' || views[tab]) return;
    void lazyView(tab).then((m) => setViews((v) => ({ ...v, [tab]: m.default })));
  }, [tab]);
  const select = (id) => {
    location.hash = id;
    setTab(id);
  };
  const onKey = (e) => {
    const i = TABS.findIndex(([id]) => id === tab);
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    const next = TABS[(i + step + TABS.length) % TABS.length][0];
    select(next);
    document.getElementById(`tab-${next}`)?.focus();
  };
  const Other = tab === 'live' ? undefined : views[tab];
  return html`<header class="top">
      <h1>earshot</h1>
      <nav role="tablist" aria-label="Views" onKeyDown=${onKey}>
        ${TABS.map(
          ([id, name]) => html`<button role="tab" id=${`tab-${id}`} aria-selected=${tab === id} aria-controls="view" tabindex=${tab === id ? 0 : -1} onClick=${() => select(id)}>${name}</button>`,
        )}
      </nav>
      <span class=${`conn ${conn}`} role="status" aria-label=${`connection ${conn}`}>${conn}</span>
      <button class="link" onClick=${onLogout}>Sign out</button>
    </header>
    <main id="view" role="tabpanel" aria-labelledby=${`tab-${tab}`}>
      <div hidden=${tab !== 'live'}>
        <${LiveView} feed=${feed} token=${token} />
      </div>
      ${tab === 'live' ? null : Other ? html`<${Other} feed=${feed} token=${token} labels=${labels} />` : html`<p>Loading…</p>`}
    </main>`;
}

// Started before the first render: on a slow box the page would otherwise wait for an effect.
const firstToken = initialToken();
const firstCheck = api(firstToken, '/api/labels');
firstCheck.catch(() => undefined);
// the WebSocket handshake runs alongside the token check (a wrong token gets 401 there too: no data)
let firstFeed = new Feed(firstToken);
firstCheck.catch(() => firstFeed?.close());

function App() {
  const [token, setToken] = useState(firstToken);
  const [state, setState] = useState({ phase: 'checking' });
  useEffect(() => {
    let live = true;
    setState({ phase: 'checking' });
    // /api/labels needs the token: it proves the token before anything else is shown
    (token === firstToken ? firstCheck : api(token, '/api/labels'))
      .then(
        (body) =>
          live &&
          setState({
            phase: 'ok',
            labels: body.models.flatMap((m) => m.labels.map((l) => l.name)),
          }),
      )
      .catch(
        (e) =>
          live &&
          setState({
            phase: 'login',
            error: e instanceof AuthError ? (token ? 'That token was not accepted.' : '') : e.message,
          }),
      );
    return () => (live = false);
  }, [token]);
  const use = (t) => {
    storeToken(t);
    setToken(t);
  };
  if (state.phase === 'checking') return html`<p class="boot">Connecting…</p>`;
  if (state.phase === 'login') return html`<${Login} onToken=${use} error=${state.error} />`;
  return html`<${Shell} token=${token} labels=${[...new Set(state.labels)].sort()} onLogout=${() => use('')} />`;
}

render(html`<${App} />`, document.getElementById('app'));
