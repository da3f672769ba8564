export type { Storage } from './contracts.js';
export { openStorage } from './open.js';
export { localStorage } from './local.js';
