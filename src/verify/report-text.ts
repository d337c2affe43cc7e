import type { Difference } from './types.js';

/** `photos/a.jpg thumb: mean colour shift 3.02 levels > 1.5`: file, output, measure. */
export function differenceLine(d: Difference): string {
  return d.output === 'file' ? `${d.item}: ${d.message}` : `${d.item} ${d.output}: ${d.message}`;
}
