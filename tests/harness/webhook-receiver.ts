import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCall {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface WebhookReceiver {
  url: string;
  /** Every call, answered or not, in arrival order. */
  calls: ReceivedCall[];
  /** Resolves once `n` calls arrived; rejects after `timeoutMs` (bounded). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real HTTP server on a free loopback port that takes webhook calls and answers each with the
 * next status of `answers` (the last one repeats), or, for `'hang'`, never answers.
 */
export async function webhookReceiver(answers: ReadonlyArray<number | 'hang'> = [200]): Promise<WebhookReceiver> {
  const calls: ReceivedCall[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = answers[Math.min(calls.length, answers.length - 1)] ?? 200;
      calls.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (answer === 'hang') return void hanging.push(res);
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/tessera`,
    calls,
    async waitFor(n, timeoutMs = 20_000) {
      for (let waited = 0; calls.length < n; waited += 20) {
        if (waited >= timeoutMs) throw new Error(`${calls.length} webhook calls after ${timeoutMs} ms, expected ${n}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
