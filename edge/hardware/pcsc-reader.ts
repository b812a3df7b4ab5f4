import type { NFC, NfcCard, Reader as NfcReader } from 'nfc-pcsc';
import type { Clock, TimerHandle } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { ReaderListeners, type ListenerErrorSink } from './listener-errors.js';
import {
  GET_UID_APDU,
  MAX_RESPONSE_BYTES,
  feedbackAccepted,
  feedbackApdu,
  isIso14443_4,
  statusWord,
  toHex,
} from './pcsc-apdu.js';
import { DEFAULT_PCSCD_SOCKET, probePcscd, type Probe } from './pcsc-socket.js';
import { RecentTaps } from './pcsc-taps.js';
import type { CardEvent, Reader, ReaderListener } from './types.js';

export interface PcscReaderOptions extends ListenerErrorSink {
  clock: Clock;
  /** pcscd's Unix socket, probed before nfc-pcsc is constructed. */
  socketPath?: string;
  /** How often to look for pcscd while it is absent. */
  retryMs?: number;
  /** The same card on the same reader within this interval counts once. */
  dedupeMs?: number;
  /** How nfc-pcsc is imported; the factory passes the module it already loaded. */
  importModule?: () => Promise<unknown>;
}

type NfcConstructor = new () => NFC;

/** A reader nfc-pcsc announced, with the card on it. */
interface Attached {
  name: string;
  device: NfcReader;
  /** Bumped when a card arrives or leaves: a `transmit` bound to an older card fails. */
  cardToken: number;
  /** Whether the card now on the reader was reported (then its removal is too). */
  reported: boolean;
  /** APDUs to one reader go one at a time: the UID read, the card's own exchange, feedback. */
  queue: Promise<unknown>;
}

/** pcsc-lite's answers once pcscd is gone: "RPC transport error", "Service not available". */
const SERVICE_GONE = /RPC transport|service (not available|was stopped)|0x8010001[3de]/i;
/** Transmit failures that say the card left, not that the reader refused the command. */
const CARD_GONE = /removed|no smart ?card|not connected|no card or connection|0x80100069|0x8010000c/i;

/** nfc-pcsc wraps pcsc-lite's error ("An error occurred while transmitting.") in `previous`. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const previous = (error as { previous?: unknown }).previous;
  return previous instanceof Error ? `${error.message} (${previous.message})` : error.message;
}

/**
 * Real PC/SC readers through nfc-pcsc (the Reader of edge/hardware/types.ts), following SimReader's semantics. It hides
 * nfc-pcsc's hazards (docs/decisions/0008-hardware-ports.md): it waits for pcscd's socket before constructing `NFC`, listens
 * for `error` everywhere, and rebuilds `NFC` when pcscd restarts, reporting `lost` then `found`.
 */
export class PcscReader implements Reader {
  private readonly listeners: ReaderListeners;
  private readonly readers = new Map<string, Attached>();
  private readonly taps: RecentTaps;
  /** Readers that refused the LED/buzzer pseudo-APDU: not asked again. */
  private readonly noFeedback = new Set<string>();
  private readonly socketPath: string;
  private readonly retryMs: number;
  private state: 'stopped' | 'starting' | 'running' = 'stopped';
  /** Bumped by start and stop: callbacks from an older run do nothing. */
  private epoch = 0;
  private Nfc: NfcConstructor | undefined;
  private nfc: NFC | undefined;
  private probe: Probe | undefined;
  private retry: TimerHandle | undefined;
  /** One log line per wait for pcscd, not one per retry. */
  private waitReported = false;

  constructor(private readonly opts: PcscReaderOptions) {
    this.socketPath = opts.socketPath ?? DEFAULT_PCSCD_SOCKET;
    this.retryMs = opts.retryMs ?? 1000;
    this.taps = new RecentTaps(opts.clock, opts.dedupeMs ?? 1500);
    this.listeners = new ReaderListeners(opts);
  }

  /** Resolves once nfc-pcsc is loaded; pcscd may come later, readers are then reported as found. */
  async start(): Promise<void> {
    if (this.state !== 'stopped') return;
    this.state = 'starting';
    const epoch = ++this.epoch;
    let Nfc: NfcConstructor;
    try {
      Nfc = nfcConstructor(await (this.opts.importModule ?? (() => import('nfc-pcsc')))());
    } catch (error) {
      if (epoch === this.epoch) this.state = 'stopped';
      throw error instanceof TesseraError
        ? error
        : new TesseraError('reader.unavailable', `cannot load nfc-pcsc: ${describeError(error)}`);
    }
    if (epoch !== this.epoch) return; // stopped while loading
    this.Nfc = Nfc;
    this.state = 'running';
    this.waitReported = false;
    this.connect(epoch);
  }

  /** Idempotent. Closes nfc-pcsc and every timer and socket; reports nothing afterwards. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.epoch++;
    this.retry?.cancel();
    this.retry = undefined;
    this.probe?.cancel();
    this.probe = undefined;
    this.taps.clear();
    await this.closeNfc();
  }

  subscribe(listener: ReaderListener): () => void {
    return this.listeners.subscribe(listener);
  }

  attached(): string[] {
    return this.state === 'running' ? [...this.readers.keys()] : [];
  }

  /** ACR122U LED and buzzer while a card is connected. A reader that refuses once is not asked again. */
  async feedback(reader: string, granted: boolean): Promise<void> {
    const slot = this.readers.get(reader);
    if (this.state !== 'running' || !slot || this.noFeedback.has(reader) || !slot.device.connection) return;
    try {
      const response = await this.exchange(slot, feedbackApdu(granted));
      if (!feedbackAccepted(response)) this.refuseFeedback(reader, `it answered ${toHex(response)}`);
    } catch (error) {
      if (!CARD_GONE.test(describeError(error))) this.refuseFeedback(reader, describeError(error));
    }
  }

  private refuseFeedback(reader: string, why: string): void {
    this.noFeedback.add(reader);
    this.opts.log?.info({ reader, why }, 'reader refuses the LED/buzzer command: no feedback on it from now on');
  }

  /** Probes pcscd's socket until it answers, then constructs nfc-pcsc. */
  private connect(epoch: number): void {
    this.probe = probePcscd(this.socketPath, (reachable, detail) => {
      this.probe = undefined;
      if (epoch !== this.epoch) return;
      if (reachable) return this.openNfc(epoch);
      if (!this.waitReported) {
        this.waitReported = true;
        this.opts.log?.warn(
          { socket: this.socketPath, detail },
          `waiting for pcscd at ${this.socketPath}: is pcscd running? apt-get install pcscd`,
        );
      }
      this.retryLater(epoch);
    });
  }

  private retryLater(epoch: number): void {
    this.retry = this.opts.clock.setTimeout(() => {
      this.retry = undefined;
      if (epoch === this.epoch) this.connect(epoch);
    }, this.retryMs);
  }

  private openNfc(epoch: number): void {
    const Nfc = this.Nfc;
    if (!Nfc) return;
    let nfc: NFC;
    try {
      nfc = new Nfc();
    } catch (error) {
      this.opts.log?.error({ err: error }, 'nfc-pcsc failed to start; retrying');
      return this.retryLater(epoch);
    }
    retainForever(nfc);
    this.nfc = nfc;
    if (this.waitReported)
      this.opts.log?.info({ socket: this.socketPath }, 'pcscd is reachable: readers will be reported as they attach');
    this.waitReported = false;
    nfc.on('error', (error) => this.serviceError(nfc, error));
    nfc.on('reader', (device) => this.readerFound(nfc, device));
  }

  /** nfc-pcsc's own error: its monitor has stopped, so start over once pcscd answers again. */
  private serviceError(nfc: NFC, error: Error): void {
    if (nfc !== this.nfc) return; // an instance we closed ourselves ("Command cancelled")
    this.serviceLost(`PC/SC service lost: ${error.message}`);
  }

  private serviceLost(detail: string): void {
    const epoch = this.epoch;
    const names = [...this.readers.keys()];
    void this.closeNfc();
    this.waitReported = true;
    this.opts.log?.warn(
      { socket: this.socketPath, detail },
      `pcscd went away (${detail}); waiting for it at ${this.socketPath}`,
    );
    for (const name of names) this.emit('lost', name, (l) => l.lost?.(name, detail));
    if (epoch === this.epoch) this.retryLater(epoch); // unless a listener stopped us
  }

  /**
   * Forgets the readers now and closes nfc-pcsc on the next turn of the event loop: pcsc-lite
   * holds a reader's mutex while it delivers that reader's events, so closing it from inside one
   * (an `error`, or a `lost` listener calling stop()) would deadlock the JS thread. The listeners
   * stay attached: a late `error` must find one.
   */
  private closeNfc(): Promise<void> {
    const nfc = this.nfc;
    const devices = [...this.readers.values()].map((slot) => {
      slot.cardToken++;
      return slot.device;
    });
    this.nfc = undefined;
    this.readers.clear();
    if (!nfc && devices.length === 0) return Promise.resolve();
    return new Promise((resolve) =>
      setImmediate(() => {
        for (const device of devices) attempt(() => device.close());
        if (nfc) attempt(() => nfc.close());
        resolve();
      }),
    );
  }

  private readerFound(nfc: NFC, device: NfcReader): void {
    retainForever(device);
    // Every reader gets an error listener, used or not: an unhandled one crashes the process.
    device.on('error', (error) => this.readerError(nfc, device, error));
    if (nfc !== this.nfc) return void setImmediate(() => attempt(() => device.close())); // see closeNfc
    const slot: Attached = {
      name: device.reader.name,
      device,
      cardToken: 0,
      reported: false,
      queue: Promise.resolve(),
    };
    device.autoProcessing = false; // we read the UID ourselves; ISO 14443-4 cards need it off
    device.on('card', (card) => this.cardArrived(slot, card));
    device.on('card.off', () => this.cardLeft(slot));
    device.on('end', () => this.readerEnded(slot));
    this.readers.set(slot.name, slot);
    this.emit('found', slot.name, (l) => l.found?.(slot.name));
  }

  private readerError(nfc: NFC, device: NfcReader, error: Error): void {
    if (nfc !== this.nfc) return;
    if (SERVICE_GONE.test(error.message)) return this.serviceLost(`PC/SC service lost: ${error.message}`);
    this.opts.log?.warn({ reader: device.reader.name, err: error }, 'reader error');
  }

  private readerEnded(slot: Attached): void {
    if (this.readers.get(slot.name) !== slot) return;
    this.readers.delete(slot.name);
    slot.cardToken++;
    this.emit('lost', slot.name, (l) => l.lost?.(slot.name, 'reader removed from PC/SC (unplugged?)'));
  }

  private cardArrived(slot: Attached, card: NfcCard): void {
    if (this.readers.get(slot.name) !== slot) return;
    const token = ++slot.cardToken;
    slot.reported = false;
    this.readCard(slot, token, card.atr ?? Buffer.alloc(0)).catch((error: unknown) =>
      this.opts.log?.warn({ reader: slot.name, err: error }, 'card not read'),
    );
  }

  private async readCard(slot: Attached, token: number, atr: Buffer): Promise<void> {
    const response = await this.exchange(slot, GET_UID_APDU);
    if (slot.cardToken !== token || this.readers.get(slot.name) !== slot) return;
    const sw = statusWord(response);
    if (sw !== 0x9000 || response.length < 6) {
      this.opts.log?.warn(
        { reader: slot.name, response: toHex(response) },
        'the reader did not give the card UID: card ignored',
      );
      return;
    }
    const uid = toHex(response.subarray(0, -2));
    if (!this.taps.count(slot.name, uid)) return;
    slot.reported = true;
    const event: CardEvent = { reader: slot.name, uid, atr: toHex(atr) };
    if (isIso14443_4(atr)) event.transmit = (apdu) => this.transmitToCard(slot, token, apdu);
    this.emit('card', slot.name, (l) => l.card?.({ ...event }));
  }

  private cardLeft(slot: Attached): void {
    if (this.readers.get(slot.name) !== slot) return;
    slot.cardToken++;
    if (!slot.reported) return;
    slot.reported = false;
    this.emit('removed', slot.name, (l) => l.removed?.({ reader: slot.name }));
  }

  private transmitToCard(slot: Attached, token: number, apdu: Buffer): Promise<Buffer> {
    if (this.state !== 'running' || slot.cardToken !== token || this.readers.get(slot.name) !== slot)
      return Promise.reject(new TesseraError('reader.unavailable', `the card has left ${JSON.stringify(slot.name)}`));
    return this.exchange(slot, apdu);
  }

  /** One APDU, after the ones already queued on this reader. */
  private exchange(slot: Attached, apdu: Buffer): Promise<Buffer> {
    const send = () => slot.device.transmit(apdu, MAX_RESPONSE_BYTES);
    const result = slot.queue.then(send, send);
    slot.queue = result.catch(() => undefined);
    return result;
  }

  private emit(event: string, reader: string, call: (listener: ReaderListener) => void): void {
    if (this.state !== 'running') return;
    this.listeners.emit(event, reader, call);
  }
}

function nfcConstructor(module: unknown): NfcConstructor {
  const m = module as { NFC?: unknown; default?: { NFC?: unknown } } | null | undefined;
  const Nfc = m?.NFC ?? m?.default?.NFC;
  if (typeof Nfc !== 'function')
    throw new TesseraError('reader.unavailable', 'nfc-pcsc loaded but exports no NFC class: an unsupported version?');
  return Nfc as NfcConstructor;
}

/** Closing half-dead pcsc-lite handles may throw; there is nothing better to do with them. */
function attempt(fn: () => void): void {
  try {
    fn();
  } catch {
    // Already closed, or pcscd is gone: either way the handle is released.
  }
}

/**
 * Every nfc-pcsc object is kept reachable for the life of the process. When V8 collects one,
 * the addon's destructor calls SCardReleaseContext on the JS thread, and that call can block
 * forever (seen with pcscd + vpcd: the thread stuck in poll() inside a minor GC). A few objects
 * per pcscd restart is a small price; pcscd allows 200 client contexts.
 */
const RETAINED: unknown[] = [];
function retainForever(...objects: unknown[]): void {
  for (const o of objects) if (o !== undefined) RETAINED.push(o);
}
