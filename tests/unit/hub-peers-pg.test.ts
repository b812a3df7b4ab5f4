import { describe, expect, it, vi } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { PeerListener, peerAnnouncer, peerConnectionName, type PeerNotice } from '../../cloud-sync/hub/peers.js';
import { HubStore } from '../../cloud-sync/hub/store.js';
import { batchOf } from '../harness/hub-fixtures.js';
import { pgAdmin, testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

/** Hub instances telling each other what they stored (the unit-pg project only: NOTIFY and LISTEN are PostgreSQL's). */
describe('hub instances on one PostgreSQL database', () => {
  it('each is told of what the others commit, never of its own nor of what was rolled back, and again after losing its connection', async () => {
    const url = await testHubDb();
    const db = await openHubDatabase(url);
    const north = `north-${process.pid}`; // its connection told apart from those of other test runs
    const mine = new HubStore(db, peerAnnouncer(north));
    const other = new HubStore(db, peerAnnouncer('south'));
    const told: PeerNotice[] = [];
    let resyncs = 0;
    const listener = new PeerListener({
      url,
      instance: north,
      log: silent,
      onNotices: async (notices) => {
        told.push(...notices);
        await db.value('SELECT 1'); // the listener reads the events back: waited for before the next notices
      },
      onResync: () => {
        resyncs++;
      },
    });
    try {
      await listener.start();
      await mine.ingest(batchOf('murat', 1, 3), 0);
      await other.ingest(batchOf('murat', 4, 5), 0);
      await other.ingestAll([batchOf('lyon', 1, 1), batchOf('lyon', 3, 4)], 0);
      await expect(
        db.transaction(async (tx) => {
          await other.ingestIn(tx, [batchOf('murat', 6, 6)], 0);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await vi.waitFor(() =>
        expect(told).toEqual([
          { instance: 'south', site: 'murat', ranges: [[4, 5]] },
          {
            instance: 'south',
            site: 'lyon',
            ranges: [
              [1, 1],
              [3, 4],
            ],
          },
        ]),
      );

      const lost = await pgAdmin([
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${peerConnectionName(north)}'`,
      ]);
      expect(lost).toEqual([true]);
      await vi.waitFor(() => expect(resyncs).toBe(1), { timeout: 5000 });
      await other.ingest(batchOf('murat', 7, 7), 0);
      await vi.waitFor(() => expect(told.at(-1)).toEqual({ instance: 'south', site: 'murat', ranges: [[7, 7]] }));
      expect(told).toHaveLength(3);
    } finally {
      await listener.stop();
      await db.close();
    }
  });
});
