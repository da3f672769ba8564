/**
 * A few-shot test set built from real recordings (must-show of issue #15):
 * - sounds: Debian's freedesktop sound theme (ringtone, chime, jingle, a crumple), each
 *   played back through sox with its own speed, EQ and gain per occurrence;
 * - a household background of espeak-ng speech (several voices), sox-synthesised music
 *   (plucked-string melodies and chords) and noise (pink floor, bursts of brown "fan");
 * - look-alikes (other chimes, a ringback tone, the logout jingle, a shutter) mixed in
 *   exactly like the targets: they must not fire.
 * Labels are given by meaning here, before any model looks at the audio. The training
 * folder and the test stream use different seeds, so no background audio is shared.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { decodeAudioFile } from '../../src/audio/decode.js';
import { encodeWav16 } from '../../src/audio/wav.js';
import { resample } from '../../src/features/resample.js';
import { Rng } from '../../src/train/rng.js';

const SND = '/usr/share/sounds/freedesktop/stereo';
export const RATE = 16000;

/** The four learned sounds, named by what they mean in the house. */
export const TARGETS: Record<string, string> = {
  doorbell: `${SND}/phone-incoming-call.oga`,
  'dryer-done': `${SND}/complete.oga`,
  'kettle-jingle': `${SND}/service-login.oga`,
  'trash-crumple': `${SND}/trash-empty.oga`,
};

/** Sounds of the same kind that are not any learned sound. */
export const LOOKALIKES = ['message-new-instant', 'service-logout', 'phone-outgoing-calling', 'camera-shutter', 'dialog-warning', 'window-attention', 'suspend-error', 'alarm-clock-elapsed'].map(
  (n) => `${SND}/${n}.oga`,
);

const SENTENCES = [
  'Could you pass me the salt please',
  'I think the weather will be fine tomorrow',
  'Have you seen my keys anywhere',
  'Dinner is almost ready, wash your hands',
  'The train was late again this morning',
  'Let us watch a film tonight',
  'Did anyone feed the cat',
  'I will call you back in five minutes',
  'Turn the music down a little',
  'We need more milk and some bread',
  'The meeting has been moved to Thursday',
  'Where did I put my glasses',
  'It is your turn to do the dishes',
  'Tell me about your day at school',
  'The garden needs watering this evening',
  'Shall we go for a walk after lunch',
];
const VOICES = ['en-us', 'en-gb', 'en-us+f3', 'en-gb+f2', 'en-us+m3', 'en-gb-scotland', 'en+f4', 'en-us+m7'];
const NOTES = ['C3', 'D3', 'E3', 'G3', 'A3', 'C4', 'D4', 'E4', 'F4', 'G4', 'A4', 'B4', 'C5'];

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr?.toString()}`);
}

async function load(path: string): Promise<Float32Array> {
  const a = await decodeAudioFile(path);
  return a.sampleRateHz === RATE ? a.samples : Float32Array.from(resample(a.samples, a.sampleRateHz, RATE));
}

function rms(x: Float32Array, from = 0, to = x.length): number {
  let e = 0;
  for (let i = from; i < to; i++) e += x[i]! * x[i]!;
  return Math.sqrt(e / Math.max(1, to - from));
}

const uni = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng.next();

/** One playback of a sound file: sox speed (0.9..1.1), a peaking EQ (+-8 dB at 300..4000 Hz), at 16 kHz mono. */
export async function playback(file: string, rng: Rng, tmp: string): Promise<Float32Array> {
  const out = join(tmp, `pb-${Math.floor(rng.next() * 1e9)}.wav`);
  run('sox', [
    file,
    '-r',
    String(RATE),
    '-c',
    '1',
    '-b',
    '16',
    out,
    'speed',
    uni(rng, 0.9, 1.1).toFixed(3),
    'equalizer',
    String(Math.round(uni(rng, 300, 4000))),
    '1q',
    uni(rng, -8, 8).toFixed(1),
    'gain',
    '-n',
    '-3',
  ]);
  const s = await load(out);
  rmSync(out);
  return s;
}

/** Household background: speech, music and quiet stretches over a pink-noise floor with occasional fan noise. */
export async function household(seconds: number, seed: number, tmp: string): Promise<Float32Array> {
  mkdirSync(tmp, { recursive: true });
  const rng = new Rng(seed);
  const n = Math.round(seconds * RATE);
  const out = new Float32Array(n);
  const floor = join(tmp, `floor-${seed}.wav`);
  run('sox', ['-n', '-r', String(RATE), '-c', '1', '-b', '16', floor, 'synth', String(seconds), 'pinknoise', 'gain', '-n', '-45']);
  out.set((await load(floor)).subarray(0, n));
  rmSync(floor);
  let t = 0;
  let k = 0;
  while (t < n) {
    const kind = rng.next();
    const f = join(tmp, `seg-${seed}-${k++}.wav`);
    let level = -26;
    if (kind < 0.45) {
      const words = Array.from({ length: 1 + rng.int(3) }, () => SENTENCES[rng.int(SENTENCES.length)]).join('. ');
      run('espeak-ng', ['-v', VOICES[rng.int(VOICES.length)]!, '-s', String(130 + rng.int(60)), '-w', f, words]);
      level = uni(rng, -30, -18);
    } else if (kind < 0.75) {
      const chain: string[] = [];
      for (let i = 0; i < 8 + rng.int(16); i++) {
        if (i) chain.push(':');
        const dur = [0.2, 0.3, 0.45, 0.6][rng.int(4)]!;
        chain.push('synth', String(dur), 'pluck', NOTES[rng.int(NOTES.length)]!, 'pluck', NOTES[rng.int(NOTES.length)]!);
      }
      run('sox', ['-n', '-r', String(RATE), '-c', '1', '-b', '16', f, ...chain]);
      level = uni(rng, -32, -20);
    } else if (kind < 0.88) {
      run('sox', ['-n', '-r', String(RATE), '-c', '1', '-b', '16', f, 'synth', uni(rng, 3, 12).toFixed(1), 'brownnoise', 'lowpass', '800']);
      level = uni(rng, -34, -24);
    } else {
      t += Math.round(uni(rng, 1, 5) * RATE);
      continue;
    }
    const s = await load(f);
    rmSync(f);
    const g = 10 ** (level / 20) / Math.max(1e-9, rms(s));
    for (let i = 0; i < s.length && t + i < n; i++) out[t + i]! += g * s[i]!;
    t += s.length + Math.round(uni(rng, 0.2, 2) * RATE);
  }
  return out;
}

/** Mixes `sound` into `bg` at `at` with the given SNR against the background under it. */
export function mixAt(bg: Float32Array, sound: Float32Array, at: number, snrDb: number): void {
  const end = Math.min(bg.length, at + sound.length);
  const g = (Math.max(1e-5, rms(bg, at, end)) * 10 ** (snrDb / 20)) / Math.max(1e-9, rms(sound));
  for (let i = at; i < end; i++) bg[i] = Math.max(-1, Math.min(1, bg[i]! + g * sound[i - at]!));
}

export function writeWav(path: string, x: Float32Array): void {
  writeFileSync(path, encodeWav16(x, RATE));
}

/**
 * DIR/<class>/1..N.wav (each a playback recorded in the room: 1-2 s of household audio
 * either side at 10-20 dB SNR) and DIR/background/*.wav (`backgroundSeconds` in 60 s files).
 */
export async function buildTrainingSet(dir: string, o: { perClass: number; backgroundSeconds: number; seed: number; classes?: string[] }): Promise<void> {
  const tmp = join(dir, '.tmp');
  mkdirSync(tmp, { recursive: true });
  const rng = new Rng(o.seed);
  for (const name of o.classes ?? Object.keys(TARGETS)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < o.perClass; i++) {
      const s = await playback(TARGETS[name]!, rng, tmp);
      const pre = Math.round(uni(rng, 1, 2) * RATE);
      const room = await household((pre + s.length) / RATE + 2, o.seed * 1000 + i * 17 + name.length, tmp);
      mixAt(room, s, pre, uni(rng, 10, 20));
      writeWav(join(dir, name, `${i + 1}.wav`), room);
    }
  }
  mkdirSync(join(dir, 'background'), { recursive: true });
  for (let i = 0; i * 60 < o.backgroundSeconds; i++) {
    writeWav(join(dir, 'background', `room-${i + 1}.wav`), await household(Math.min(60, o.backgroundSeconds - i * 60), o.seed * 7919 + i, tmp));
  }
  rmSync(tmp, { recursive: true, force: true });
}

export interface Occurrence {
  readonly label: string;
  readonly startSeconds: number;
  readonly endSeconds: number;
  /** False for look-alikes (must not fire). */
  readonly target: boolean;
}

/**
 * A long stream: household background with target and look-alike playbacks every
 * 9-15 s (half each), each at 0-10 dB SNR. Returns the audio and the ground truth.
 */
export async function buildStream(seconds: number, seed: number, tmp: string): Promise<{ samples: Float32Array; truth: Occurrence[] }> {
  mkdirSync(tmp, { recursive: true });
  const rng = new Rng(seed);
  const samples = await household(seconds, seed, tmp);
  const truth: Occurrence[] = [];
  const names = Object.keys(TARGETS);
  let t = uni(rng, 3, 8);
  let k = 0;
  while (t < seconds - 8) {
    const target = k++ % 2 === 0;
    const label = target ? names[rng.int(names.length)]! : LOOKALIKES[rng.int(LOOKALIKES.length)]!;
    const s = await playback(target ? TARGETS[label]! : label, rng, tmp);
    const at = Math.round(t * RATE);
    mixAt(samples, s, at, uni(rng, 0, 10));
    truth.push({ label: target ? label : label.replace(/^.*\/|\.oga$/g, ''), startSeconds: t, endSeconds: t + s.length / RATE, target });
    t += s.length / RATE + uni(rng, 9, 15);
  }
  return { samples, truth };
}
