/**
 * The part of nfc-pcsc 0.8 (which ships no types) that PcscReader uses. Checked against its
 * src/NFC.js and src/Reader.js; keep it minimal so a wrong guess cannot hide behind it.
 */
declare module 'nfc-pcsc' {
  import type { EventEmitter } from 'node:events';

  export type TagStandard = 'TAG_ISO_14443_3' | 'TAG_ISO_14443_4';

  /** What a `card` event carries with auto-processing off: the ATR and the standard guessed from it. */
  export interface NfcCard {
    atr?: Buffer;
    /** `TAG_ISO_14443_3` when `atr[5] === 0x4F`, else `TAG_ISO_14443_4`. */
    standard?: TagStandard;
    type?: TagStandard;
    /** Lower-case hex; only with auto-processing on. */
    uid?: string;
  }

  /** @pokusew/pcsclite's CardReader, which nfc-pcsc wraps. */
  export interface PcscCardReader {
    readonly name: string;
  }

  export class Reader extends EventEmitter {
    readonly reader: PcscCardReader;
    readonly name: string;
    /** On: nfc-pcsc reads the UID itself (and fails ISO 14443-4 cards without an AID). */
    autoProcessing: boolean;
    card: NfcCard | null;
    /** Set while a card is connected (between `card` and `card.off`). */
    connection: { type: number; protocol: number } | null;
    /** Throws synchronously (not a rejection) when no card is connected. */
    transmit(data: Buffer, responseMaxLength: number): Promise<Buffer>;
    control(data: Buffer, responseMaxLength: number): Promise<Buffer>;
    close(): void;
    on(event: 'card' | 'card.off', listener: (card: NfcCard) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'end', listener: () => void): this;
  }

  export class NFC extends EventEmitter {
    /** Never returns while pcscd's socket is missing: it spins in the addon at 100 % CPU. */
    constructor(logger?: unknown);
    close(): void;
    on(event: 'reader', listener: (reader: Reader) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
  }

  export const TAG_ISO_14443_3: 'TAG_ISO_14443_3';
  export const TAG_ISO_14443_4: 'TAG_ISO_14443_4';
}
