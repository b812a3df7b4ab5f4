import { afterEach, describe, expect, it } from 'vitest';
import type { CardEvent, Reader, ReaderListener } from '../../edge/hardware/types.js';
import { eventually, type Waits } from './eventually.js';

/**
 * What every Reader must do, whatever drives it: SimReader today, PcscReader over a virtual card
 * (vpcd) later. The harness presents and removes cards the way its world can.
 */
export interface ReaderHarness extends Waits {
  reader: Reader;
  /** Reader names the harness can act on, as `attached()` reports them; one or more. */
  names: readonly string[];
  /** Puts a card with this UID (upper-case hex) on a reader. May refuse a stopped reader. */
  present(reader: string, uid: string): void | Promise<void>;
  remove(reader: string): void | Promise<void>;
  unplug?(reader: string): void | Promise<void>;
  plug?(reader: string): void | Promise<void>;
  teardown?(): void | Promise<void>;
}

export interface ReaderContractOptions {
  /** How long real hardware may take to report (pcscd polls every ~400 ms). */
  timeoutMs?: number;
}

interface Heard {
  cards: CardEvent[];
  removed: string[];
  lost: { reader: string; detail: string }[];
  found: string[];
}

function recorder(): { heard: Heard; listener: ReaderListener } {
  const heard: Heard = { cards: [], removed: [], lost: [], found: [] };
  const listener: ReaderListener = {
    card: (e) => heard.cards.push(e),
    removed: (e) => heard.removed.push(e.reader),
    lost: (reader, detail) => heard.lost.push({ reader, detail }),
    found: (reader) => heard.found.push(reader),
  };
  return { heard, listener };
}

const UID = '04A1B2C3D4E5F6';

export function readerContract(
  name: string,
  makeHarness: () => ReaderHarness | Promise<ReaderHarness>,
  options: ReaderContractOptions = {},
): void {
  const timeout = options.timeoutMs ?? 3000;
  describe(`Reader contract: ${name}`, () => {
    let h: ReaderHarness | undefined;
    const first = (x: ReaderHarness): string => x.names[0] ?? expect.fail('the harness must name at least one reader');

    /** A started reader with a recording listener subscribed before start. */
    async function started(): Promise<{ x: ReaderHarness; heard: Heard }> {
      const x = await makeHarness();
      h = x;
      const { heard, listener } = recorder();
      x.reader.subscribe(listener);
      await x.reader.start();
      await eventually(
        x,
        () => x.names.every((n) => x.reader.attached().includes(n)),
        'the readers to attach',
        timeout,
      );
      return { x, heard };
    }

    afterEach(async () => {
      if (!h) return;
      await h.reader.stop();
      await h.teardown?.();
      h = undefined;
    });

    it('announces each attached reader with found once started', async () => {
      const { x, heard } = await started();
      await eventually(x, () => x.names.every((n) => heard.found.includes(n)), 'found for every reader', timeout);
      expect(x.reader.attached()).toEqual(expect.arrayContaining([...x.names]));
    });

    it('reports a presented card with its reader, upper-case hex UID and ATR', async () => {
      const { x, heard } = await started();
      await x.present(first(x), UID);
      await eventually(x, () => heard.cards.length > 0, 'a card event', timeout);
      const card = heard.cards[0];
      expect(card).toMatchObject({ reader: first(x), uid: UID });
      expect(card?.atr).toMatch(/^([0-9A-F]{2})+$/);
    });

    it('reports the removal of the card', async () => {
      const { x, heard } = await started();
      await x.present(first(x), UID);
      await eventually(x, () => heard.cards.length > 0, 'a card event', timeout);
      await x.remove(first(x));
      await eventually(x, () => heard.removed.includes(first(x)), 'a removed event', timeout);
    });

    it('tells cards on two readers apart', async (ctx) => {
      const { x, heard } = await started();
      const second = x.names[1];
      if (second === undefined) return ctx.skip();
      await x.present(second, UID);
      await eventually(x, () => heard.cards.length > 0, 'a card event', timeout);
      expect(heard.cards.map((c) => c.reader)).toEqual([second]);
    });

    it('stops delivering to a listener once it unsubscribes', async () => {
      const { x, heard } = await started();
      const other = recorder();
      const off = x.reader.subscribe(other.listener);
      off();
      await x.present(first(x), UID);
      await eventually(x, () => heard.cards.length > 0, 'a card event', timeout);
      expect(other.heard.cards).toEqual([]);
    });

    it('keeps delivering to the other listeners when one throws', async () => {
      const { x, heard } = await started();
      x.reader.subscribe({
        card: () => {
          throw new Error('listener bug');
        },
      });
      const after = recorder();
      x.reader.subscribe(after.listener);
      await x.present(first(x), UID);
      await eventually(
        x,
        () => after.heard.cards.length > 0 && heard.cards.length > 0,
        'the card at both listeners',
        timeout,
      );
      await x.remove(first(x));
      await x.present(first(x), UID);
      await eventually(x, () => heard.cards.length > 1, 'the reader to keep working', timeout);
    });

    it('resolves feedback, granted or denied, even for a reader it does not know', async () => {
      const { x } = await started();
      await expect(x.reader.feedback(first(x), true)).resolves.toBeUndefined();
      await expect(x.reader.feedback(first(x), false)).resolves.toBeUndefined();
      await expect(x.reader.feedback('no such reader', true)).resolves.toBeUndefined();
    });

    it('reports an unplugged reader as lost and a replugged one as found', async (ctx) => {
      const { x, heard } = await started();
      if (!x.unplug || !x.plug) return ctx.skip();
      await x.unplug(first(x));
      await eventually(x, () => heard.lost.some((l) => l.reader === first(x)), 'a lost event', timeout);
      expect(x.reader.attached()).not.toContain(first(x));
      expect(heard.lost[0]?.detail).toEqual(expect.any(String));
      const foundBefore = heard.found.length;
      await x.plug(first(x));
      await eventually(x, () => heard.found.length > foundBefore, 'a found event', timeout);
      expect(x.reader.attached()).toContain(first(x));
    });

    it('stops idempotently and reports nothing after stop', async () => {
      const { x, heard } = await started();
      await x.reader.stop();
      await x.reader.stop();
      // A harness may refuse to present a card to a stopped reader; either way no event may follow.
      await (async () => x.present(first(x), UID))().catch(() => undefined);
      await x.wait(Math.min(timeout, 1000));
      expect(heard.cards).toEqual([]);
    });
  });
}
