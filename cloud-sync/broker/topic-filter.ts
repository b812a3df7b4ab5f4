/**
 * MQTT topic filters (MQTT 3.1.1, 4.7): `+` is one level, `#` the rest (the parent level
 * included), and a wildcard in the first level never matches a topic starting with `$` (the
 * broker's own topics).
 */

const wildcard = (level: string | undefined) => level === '+' || level === '#';

/** Whether some topic could match both filters: what a subscription to `a` may receive of `b`. */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  if ((x[0]?.startsWith('$') === true && wildcard(y[0])) || (y[0]?.startsWith('$') === true && wildcard(x[0])))
    return false;
  for (let i = 0; ; i++) {
    if (x[i] === '#' || y[i] === '#') return true;
    if (x[i] === undefined || y[i] === undefined) return x[i] === y[i];
    if (x[i] !== '+' && y[i] !== '+' && x[i] !== y[i]) return false;
  }
}

/** Whether `topic` (a published topic: no wildcards) is one of the topics `filter` names. */
export function filterMatches(filter: string, topic: string): boolean {
  return filtersOverlap(filter, topic);
}
