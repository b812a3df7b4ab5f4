import { z } from 'zod';

/**
 * Where `input` holds an object whose own `toString` or `valueOf` is not a function (valid JSON:
 * `{"length": {"toString": true}}`), or null. Walked with a list rather than recursion: a hostile
 * payload can be nested deeper than the stack.
 */
function unconvertibleAt(input: unknown): PropertyKey[] | null {
  const pending: Array<{ value: unknown; path: PropertyKey[] }> = [{ value: input, path: [] }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path } = next;
    if (value === null || typeof value !== 'object') continue;
    const own = value as Record<string, unknown>;
    for (const method of ['toString', 'valueOf'])
      if (Object.hasOwn(own, method) && typeof own[method] !== 'function') return path;
    const entries: Array<[PropertyKey, unknown]> = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.entries(own);
    for (const [key, v] of entries.reverse()) pending.push({ value: v, path: [...path, key] });
  }
  return null;
}

/**
 * `schema.safeParse(input)` for input from outside (a network payload, a request body). zod runs an
 * array's or a string's length check on any value that has a `length`, even one of the wrong type,
 * and comparing a `length` object whose own `toString` is not a function throws. Whatever makes the
 * check throw, the input is refused like any other invalid input, at the path of the value that
 * cannot be compared when there is one, instead of escaping as an exception.
 */
export function checkUntrusted<S extends z.ZodType>(
  schema: S,
  input: unknown,
  params?: z.core.ParseContext<z.core.$ZodIssue>,
): z.ZodSafeParseResult<z.output<S>> {
  try {
    return schema.safeParse(input, params);
  } catch (err) {
    const path = unconvertibleAt(input);
    const message =
      path === null
        ? `could not be checked (${err instanceof Error ? err.message : String(err)})`
        : 'an object with its own toString or valueOf, which cannot be compared';
    return {
      success: false,
      error: new z.ZodError([{ code: 'custom', path: path ?? [], message, input }]) as z.ZodError<z.output<S>>,
    };
  }
}
