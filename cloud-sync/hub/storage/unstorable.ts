/** A surrogate without its other half. */
const HALF_PAIR = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** A NUL, or half a surrogate pair: what no PostgreSQL text or jsonb value can hold. */
const unstorable = (text: string) => text.includes('\u0000') || HALF_PAIR.test(text);

/**
 * The path of the first string in `value` that the hub could not store on PostgreSQL (refused
 * on SQLite as well, so that both stores take the same events), or undefined.
 */
export function unstorableText(value: unknown, path = '$'): string | undefined {
  if (typeof value === 'string') return unstorable(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableText(value[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object')
    for (const [key, v] of Object.entries(value)) {
      const found = unstorable(key) ? `${path} (a key)` : unstorableText(v, `${path}.${key}`);
      if (found !== undefined) return found;
    }
  return undefined;
}
