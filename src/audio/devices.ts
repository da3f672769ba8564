import { EarshotError } from '../errors.js';
import { collectProcess, defaultSpawn, type SpawnLike } from './process.js';

/** A capture device name as `mic:NAME` / `sources[].device` takes it, with ALSA's description. */
export interface CaptureDevice {
  readonly name: string;
  readonly description: string;
}

/**
 * `arecord -L`: names start a line, their description lines are indented. Parsed here
 * (not in the CLI) so the daemon's error hints and `earshot devices` read the same list.
 */
export function parseArecordList(text: string): CaptureDevice[] {
  const out: Array<{ name: string; description: string[] }> = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) out.at(-1)?.description.push(line.trim());
    else out.push({ name: line.trim(), description: [] });
  }
  return out.map((d) => ({ name: d.name, description: d.description.join(' — ') }));
}

export async function listCaptureDevices(spawnImpl: SpawnLike = defaultSpawn): Promise<CaptureDevice[]> {
  const r = await collectProcess(spawnImpl, 'arecord', ['-L']);
  if (r.spawnError) {
    if (r.spawnError.code === 'ENOENT') throw new EarshotError('MIC_BINARY_NOT_FOUND', `arecord not found on PATH (install alsa-utils): ${r.spawnError.message}`, { recorder: 'arecord' });
    throw new EarshotError('MIC_FAILED', `cannot run arecord -L: ${r.spawnError.message}`, { recorder: 'arecord' });
  }
  if (r.code !== 0) throw new EarshotError('MIC_FAILED', `arecord -L exited with ${r.code ?? r.signal}: ${r.stderr.at(-1) ?? 'no error output'}`, { recorder: 'arecord', stderr: r.stderr });
  return parseArecordList(r.stdout.toString('utf8'));
}
