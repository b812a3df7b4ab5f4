/** A JSON call to an HTTP API over its socket (the hub's, a site's), bounded in time: its status and JSON body. */
export async function call(
  method: string,
  url: string,
  body?: unknown,
  auth?: { authorization: string },
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers = {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(auth ? { authorization: auth.authorization } : {}),
  };
  const res = await fetch(url, {
    method,
    headers,
    signal: AbortSignal.timeout(10_000),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
