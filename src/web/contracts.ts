/**
 * Boundary: the daemon's HTTP port -> the browser dashboard.
 *
 * Static assets (src/web/static, and preact/htm/uPlot from node_modules) are public, read
 * once from disk and served from memory; they carry no data. Everything the page shows
 * comes from the token-protected API and WebSocket. The settings API writes the overrides
 * file (off the live path, on the HTTP request) and then applies it through the same
 * reload path as SIGHUP; a reload that fails restores the previous file.
 */
export interface DashboardAsset {
  readonly type: string;
  readonly body: Buffer;
}
