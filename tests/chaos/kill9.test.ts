import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeStore } from '../../edge/store/store.js';
import { SiteEvent } from '../../shared/protocol/events.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function runUntilKilled(dbPath: string, afterReadyMs: number): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['tests/fixtures/busy-site.mjs', dbPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the busy site never reported running'));
    }, 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('running')) setTimeout(() => child.kill('SIGKILL'), afterReadyMs);
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      resolve(signal);
    });
  });
}

describe('a site killed with SIGKILL mid-run', () => {
  it('reopens with a gapless event log, a matching counter and consistent presence', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-kill9-'));
    dirs.push(dir);
    const dbPath = join(dir, 'edge.db');
    for (const delay of [150, 400]) {
      expect(await runUntilKilled(dbPath, delay)).toBe('SIGKILL');
      const store = EdgeStore.open(dbPath, 'murat', 'Europe/Paris');
      const events = store.events.list(0, 10_000_000);
      expect(events.length).toBeGreaterThan(500);
      events.forEach((e, i) => expect(e.seq).toBe(i + 1));
      expect(store.events.lastSeq()).toBe(events.length);
      for (const e of events) expect(SiteEvent.safeParse(e).success).toBe(true);
      // Replaying presence events gives exactly who the store says is in.
      const inside = new Set<string>();
      for (const e of events) {
        if (e.type === 'presence.in') inside.add(e.data.memberId);
        if (e.type === 'presence.out') inside.delete(e.data.memberId);
      }
      expect(new Set(store.presence.list().map((p) => p.member))).toEqual(inside);
      store.close();
    }
  });
});
