import type { LabelInfo } from '../classify/contracts.js';
import { closestName, findLabels } from '../classify/label-match.js';
import type { ClipLabelFilter, ClipsConfig } from '../config/sections/clips.js';
import { EarshotError } from '../errors.js';

/**
 * The include/exclude lists as a predicate over label ids. A name that matches no
 * label is a config error (with the closest name), as for events.labels.
 */
export function resolveLabelFilter(f: ClipLabelFilter, labels: readonly LabelInfo[], where: string): (labelId: string) => boolean {
  const ids = (terms: readonly string[], key: string) =>
    new Set(
      terms.flatMap((t) => {
        const found = findLabels(t, labels);
        if (!found.length) {
          const near = closestName(
            t,
            labels.map((l) => l.name),
          );
          throw new EarshotError('CONFIG_INVALID', `${where}.${key}: "${t}" names no label${near ? `; did you mean "${near}"?` : ''}`, { label: t });
        }
        return found.map((i) => labels[i]!.id);
      }),
    );
  const include = ids(f.include, 'include');
  const exclude = ids(f.exclude, 'exclude');
  return (id) => !exclude.has(id) && (include.size === 0 || include.has(id));
}

/** The filter for one source: `clips.sources.<id>` when given, else `clips.labels`. */
export function clipFilterFor(cfg: ClipsConfig, sourceId: string, labels: readonly LabelInfo[]): (labelId: string) => boolean {
  const own = cfg.sources[sourceId];
  return resolveLabelFilter(own ?? cfg.labels, labels, own ? `clips.sources.${sourceId}` : 'clips.labels');
}
