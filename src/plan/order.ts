/**
 * Strings in code-unit order, as `sort()` without a comparator gives them, never in a locale's
 * order: plans, names and listings come out the same on every machine.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
