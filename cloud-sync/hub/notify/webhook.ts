import { createHmac } from 'node:crypto';
import type { Clock } from '../../../shared/platform/clock.js';

/** How a webhook call is tried: each attempt bounded, retried after a doubling wait when it may help. */
export interface WebhookRetry {
  /** Each attempt's bound (connection, answer): default 10 s. */
  timeoutMs: number;
  /** Attempts in all, the first included: default 4. */
  attempts: number;
  /** The wait before the second attempt, doubled before each later one: default 2 s (2, 4, 8 s). */
  backoffMs: number;
}

export const WEBHOOK_RETRY: WebhookRetry = { timeoutMs: 10_000, attempts: 4, backoffMs: 2_000 };

export const SIGNATURE_HEADER = 'x-tessera-signature';
export const TIMESTAMP_HEADER = 'x-tessera-timestamp';

/**
 * The signature a receiver recomputes: HMAC-SHA256 with the shared secret over
 * `<timestamp>.<body>`, in hex. The timestamp (Unix seconds, its own header) is signed too, so an
 * old call replayed later is refused by a receiver that bounds its age.
 */
export const signatureOf = (secret: string, timestamp: number, body: string): string =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

export type WebhookOutcome = { ok: true; attempts: number } | { ok: false; attempts: number; reason: string };

/** Where a call went, fit for a log: no user, password or query (either may hold a token). */
export function safeUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/** One attempt: delivered, worth retrying (5xx, 408, 429, no answer in time, no connection), or refused. */
async function attempt(
  url: string,
  body: string,
  secret: string | undefined,
  clock: Clock,
  timeoutMs: number,
): Promise<'ok' | { retry: boolean; reason: string }> {
  const timestamp = Math.floor(clock.now() / 1000);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'tessera-hub' };
  if (secret !== undefined) {
    headers[TIMESTAMP_HEADER] = String(timestamp);
    headers[SIGNATURE_HEADER] = `sha256=${signatureOf(secret, timestamp, body)}`;
  }
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return 'ok';
    return { retry: res.status >= 500 || res.status === 408 || res.status === 429, reason: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    const reason =
      e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.name ?? 'error');
    return { retry: true, reason };
  }
}

/** Resolves after `ms` of the clock's time, or at once when `stop` aborts. */
function pause(clock: Clock, ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve();
    const timer = clock.setTimeout(done, ms);
    stop.addEventListener('abort', done, { once: true });
    function done() {
      timer.cancel();
      stop.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** POSTs `body` to `url`, signed when there is a secret, retried as `retry` says; never throws. */
export async function postWebhook(
  target: { url: string; secret: string | undefined },
  body: string,
  deps: { clock: Clock; retry: WebhookRetry; stop: AbortSignal },
): Promise<WebhookOutcome> {
  const { clock, retry, stop } = deps;
  for (let n = 1; ; n++) {
    const result = await attempt(target.url, body, target.secret, clock, retry.timeoutMs);
    if (result === 'ok') return { ok: true, attempts: n };
    if (!result.retry || n >= retry.attempts || stop.aborted) return { ok: false, attempts: n, reason: result.reason };
    await pause(clock, retry.backoffMs * 2 ** (n - 1), stop);
  }
}
