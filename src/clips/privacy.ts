import type { LabelInfo } from '../classify/contracts.js';
import type { PrivacyConfig } from '../config/sections/privacy.js';
import type { ScoreFrame } from '../events/contracts.js';
import type { Ontology } from '../server/ontology.js';

/** AudioSet's Speech node; its branch (male/female/child speech, conversation, narration, babbling, ...) is speech. */
export const SPEECH_ID = '/m/09x0r';

/**
 * privacy.dropSpeech as a per-frame test for one tagger's labels: true when any label
 * of the Speech branch scores at least speechMinScore. Frames are judged on their own
 * scores (known at once), not on events (whose onset is known only later). Without an
 * ontology the branch is the labels named or identified as Speech. undefined = off.
 */
export function speechDetector(cfg: PrivacyConfig, labels: readonly LabelInfo[], ontology: Ontology | undefined): ((f: ScoreFrame) => boolean) | undefined {
  if (!cfg.dropSpeech) return undefined;
  const branch = ontology?.descendants(SPEECH_ID) ?? new Set([SPEECH_ID]);
  const ids = new Set(labels.filter((l) => branch.has(l.id) || l.name.toLowerCase() === 'speech').map((l) => l.id));
  const min = cfg.speechMinScore;
  return (f) => {
    for (let i = 0; i < f.labels.length; i++) if (ids.has(f.labels[i]!.id) && f.scores[i]! >= min) return true;
    return false;
  };
}
