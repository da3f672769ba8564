// Shared helpers: the token, authenticated fetch, formatting, the spectrogram colour map.
import htm from 'htm';
import { h } from 'preact';

export const html = htm.bind(h);

const KEY = 'earshot.token';

/** `?token=` wins (and is stored, then removed from the address bar); else the stored one. */
export function initialToken() {
  const url = new URL(location.href);
  const t = url.searchParams.get('token');
  if (t !== null) {
    localStorage.setItem(KEY, t);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    return t;
  }
  return localStorage.getItem(KEY) ?? '';
}

export function storeToken(t) {
  if (t) localStorage.setItem(KEY, t);
  else localStorage.removeItem(KEY);
}

export class AuthError extends Error {}

/** JSON from the API with the bearer token; 401 -> AuthError, other failures carry the server's message. */
export async function api(token, path, init = {}) {
  const headers = {
    ...(init.headers ?? {}),
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401) throw new AuthError('the token was not accepted');
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `${path}: HTTP ${res.status}`);
  return body;
}

/** A URL for media elements, which cannot send headers. */
export function withToken(path, token) {
  return token ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : path;
}

export const fmtTime = (ms) =>
  new Date(ms).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
export const fmtDateTime = (ms) =>
  new Date(ms).toLocaleString([], {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
export const pct = (x) => `${Math.round(x * 100)}%`;

/** 256 RGB entries of a perceptual (inferno-like) ramp: dark = quiet, yellow = loud. */
export const colormap = (() => {
  const stops = [
    [0, 0, 0, 4],
    [0.25, 87, 16, 110],
    [0.5, 188, 55, 84],
    [0.75, 249, 142, 9],
    [1, 252, 255, 164],
  ];
  const out = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    let k = 0;
    while (k < stops.length - 2 && x > stops[k + 1][0]) k++;
    const [x0, ...a] = stops[k];
    const [x1, ...b] = stops[k + 1];
    const f = (x - x0) / (x1 - x0);
    for (let c = 0; c < 3; c++) out[i * 3 + c] = a[c] + (b[c] - a[c]) * f;
  }
  return out;
})();

export function b64bytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
