import type { Command } from 'commander';

import { EarshotError } from '../../errors.js';
import { action, configFrom } from '../common.js';

interface CalibrateFlags {
  falseAlarmsPerHour?: string;
  write?: string;
  json?: boolean;
}

/** `earshot calibrate <background>`: AudioSet per-label thresholds from a recording of the place without the sounds. */
export function registerCalibrate(program: Command): void {
  program
    .command('calibrate <background-audio>')
    .description('raise the thresholds of AudioSet labels that fire on a background recording to a false-alarm budget (YAMNet, as `run` scores)')
    .option('--false-alarms-per-hour <n>', 'allowed events per label per hour of background (default 1)')
    .option('-w, --write <file>', 'merge the thresholds into events.labels of this YAML config file (default: the --config file; none: print only)')
    .option('--json', 'one JSON line per calibrated label')
    .action(
      action(async (file: string, flags: CalibrateFlags, cmd: Command) => {
        const cfg = configFrom(cmd);
        const budget = flags.falseAlarmsPerHour === undefined ? 1 : Number(flags.falseAlarmsPerHour);
        if (!(Number.isFinite(budget) && budget >= 0))
          throw new EarshotError('INPUT_INVALID', `--false-alarms-per-hour must be a non-negative number, got '${flags.falseAlarmsPerHour}'`, { flag: '--false-alarms-per-hour' });
        const [{ decodeAudioFile }, { resample }, { calibrateLabels, writeLabelThresholds }, { resolveModelDir }, { loadYamnetTagger }, { tagWaveform }, { frontendSchema }] = await Promise.all([
          import('../../audio/decode.js'),
          import('../../features/resample.js'),
          import('../../learn/calibrate-tagger.js'),
          import('../../models/packaged.js'),
          import('../../models/yamnet/tagger.js'),
          import('../../models/yamnet/tag-audio.js'),
          import('../../config/sections/frontend.js'),
        ]);
        const audio = await decodeAudioFile(file);
        const tagger = await loadYamnetTagger(resolveModelDir(cfg.models.yamnetDir), cfg.engine);
        try {
          const fe = frontendSchema.parse({ ...cfg.frontend, ...tagger.frontend });
          const samples = audio.sampleRateHz === fe.sampleRateHz ? audio.samples : Float32Array.from(resample(audio.samples, audio.sampleRateHz, fe.sampleRateHz));
          const r = await tagWaveform(tagger, samples, fe.sampleRateHz, fe);
          const cal = calibrateLabels(r.scores, r.count, r.labels, cfg.events, fe.patchHopSeconds, budget);
          for (const c of cal) {
            process.stdout.write(
              flags.json
                ? JSON.stringify(c) + '\n'
                : `${c.label.padEnd(32)} ${c.id.padEnd(12)} on ${c.onThreshold.toFixed(3)} off ${c.offThreshold.toFixed(3)}  false alarms/h ${c.falseAlarmsPerHourBefore} -> ${c.falseAlarmsPerHourAfter}${c.withinBudget ? '' : ' (over budget even at 1: this sound is part of the background)'}\n`,
            );
          }
          const target = flags.write ?? (cmd.optsWithGlobals() as { config?: string }).config;
          if (target && cal.length) await writeLabelThresholds(target, cal);
          if (!flags.json)
            process.stderr.write(
              `${file}: ${(samples.length / fe.sampleRateHz).toFixed(0)} s of background, ${cal.length} labels over ${budget}/hour at the configured thresholds${target && cal.length ? `; written to ${target} (send the daemon SIGHUP to apply)` : ''}\n`,
            );
        } finally {
          await tagger.dispose();
        }
      }),
    );
}
