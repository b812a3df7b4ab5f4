import type { Clock } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { ReaderListeners, type ListenerErrorSink } from './listener-errors.js';
import type { CardEvent, Reader, ReaderListener } from './types.js';

/** ATR of an ISO 14443-3 tag as an ACR122U reports it. */
export const ISO14443_3_ATR = '3B8F8001804F0CA0000003060300030000000068';
export const ISO14443_4_ATR = '3B8180018080';

/** A card that speaks APDUs (ISO 14443-4), e.g. a software NTAG 424. */
export interface SimCard {
  handle(apdu: Buffer): Buffer;
}

export type SimReaderOptions = ListenerErrorSink;

export interface FeedbackRecord {
  granted: boolean;
  /** Clock time of the feedback call. */
  at: number;
}

/** UIDs are 4, 7 or 10 bytes; we accept any length in between so demos can use short ones. */
const UID_BYTES = { min: 4, max: 10 };

/**
 * Upper-case hex without separators, the form every CardEvent carries. Accepts `04:a2-7f ..`
 * as people type it; anything that is not whole bytes of hex is refused.
 */
export function normaliseHex(text: string, what: string, bytes?: { min: number; max: number }): string {
  const hex = text.replace(/[\s:-]/g, '').toUpperCase();
  const ok = /^([0-9A-F]{2})+$/.test(hex);
  const length = hex.length / 2;
  if (!ok || (bytes && (length < bytes.min || length > bytes.max))) {
    const size = bytes ? ` of ${bytes.min} to ${bytes.max} bytes` : '';
    throw new TesseraError('request.invalid', `expected ${what} in hex${size}, got ${JSON.stringify(text)}`);
  }
  return hex;
}

/**
 * Simulated PC/SC readers: product code behind `--simulate`, the demo and the tests.
 * It follows nfc-pcsc's shape: readers are announced with `found` when the service starts,
 * events flow only while started, and a card stays "on" the reader until `remove`.
 */
export class SimReader implements Reader {
  /** Reader name → plugged in. Insertion order is the order `attached()` reports. */
  private readonly plugged = new Map<string, boolean>();
  private readonly listeners: ReaderListeners;
  private readonly feedbacks = new Map<string, FeedbackRecord>();
  private running = false;

  constructor(
    names: readonly string[],
    private readonly clock: Clock,
    private readonly opts: SimReaderOptions = {},
  ) {
    for (const name of names) this.plugged.set(name, true);
    this.listeners = new ReaderListeners(opts);
  }

  start(): Promise<void> {
    if (!this.running) {
      this.running = true;
      for (const name of this.attached()) this.emit('found', name, (l) => l.found?.(name));
    }
    return Promise.resolve();
  }

  /** Idempotent. Listeners stay subscribed; they hear nothing until the next `start()`. */
  stop(): Promise<void> {
    this.running = false;
    return Promise.resolve();
  }

  subscribe(listener: ReaderListener): () => void {
    return this.listeners.subscribe(listener);
  }

  /** Plugged-in readers while started; none before `start()`, as a real PC/SC service. */
  attached(): string[] {
    if (!this.running) return [];
    return [...this.plugged].filter(([, on]) => on).map(([name]) => name);
  }

  /** Records the feedback for `lastFeedback`; accepts any reader name and never throws. */
  feedback(reader: string, granted: boolean): Promise<void> {
    this.feedbacks.set(reader, { granted, at: this.clock.now() });
    return Promise.resolve();
  }

  lastFeedback(reader: string): FeedbackRecord | undefined {
    return this.feedbacks.get(reader);
  }

  /**
   * Presents a card: `card` reaches every listener before this returns, so a caller can read the
   * edge's decision right after. Nothing else follows (no automatic removal).
   */
  tap(reader: string, uid: string, opts: { atr?: string; at?: number; card?: SimCard } = {}): CardEvent {
    this.requireAttached(reader);
    // Finite is not enough: past ±8.64e15 ms no Date holds it, and the tap would fail in its listener.
    if (opts.at !== undefined && Number.isNaN(new Date(opts.at).getTime()))
      throw new TesseraError('request.invalid', `expected the tap time as epoch milliseconds, got ${String(opts.at)}`);
    const card = opts.card;
    const event: CardEvent = {
      reader,
      uid: normaliseHex(uid, 'a card UID', UID_BYTES),
      atr: normaliseHex(opts.atr ?? (card ? ISO14443_4_ATR : ISO14443_3_ATR), 'an ATR'),
      at: opts.at ?? this.clock.now(),
      // An ISO 14443-4 card answers APDUs, as a software NTAG 424 does in the demo and tests.
      ...(card ? { transmit: (apdu: Buffer) => Promise.resolve(card.handle(apdu)) } : {}),
    };
    // A copy per listener: one listener editing the event must not change what the next sees.
    this.emit('card', reader, (l) => l.card?.({ ...event }));
    return event;
  }

  /** The card leaves the reader. */
  remove(reader: string): void {
    this.requireAttached(reader);
    this.emit('removed', reader, (l) => l.removed?.({ reader }));
  }

  /** The reader is unplugged (or its PC/SC service went away). No-op if already unplugged. */
  unplug(reader: string, detail = 'reader unplugged'): void {
    this.requireKnown(reader);
    if (!this.plugged.get(reader)) return;
    this.plugged.set(reader, false);
    if (this.running) this.emit('lost', reader, (l) => l.lost?.(reader, detail));
  }

  /** Plugs a reader back in, or a new one (a name not given at construction). */
  plug(reader: string): void {
    if (this.plugged.get(reader)) return;
    this.plugged.set(reader, true);
    if (this.running) this.emit('found', reader, (l) => l.found?.(reader));
  }

  private requireKnown(reader: string): void {
    if (!this.plugged.has(reader)) {
      const names = [...this.plugged.keys()].map((n) => JSON.stringify(n)).join(', ') || 'none';
      throw new TesseraError(
        'reader.unavailable',
        `no simulated reader named ${JSON.stringify(reader)} (readers: ${names})`,
      );
    }
  }

  private requireAttached(reader: string): void {
    this.requireKnown(reader);
    if (!this.running) throw new TesseraError('reader.unavailable', 'the simulated readers are not started');
    if (!this.plugged.get(reader))
      throw new TesseraError('reader.unavailable', `reader ${JSON.stringify(reader)} is unplugged`);
  }

  private emit(event: string, reader: string, call: (listener: ReaderListener) => void): void {
    this.listeners.emit(event, reader, call);
  }
}
