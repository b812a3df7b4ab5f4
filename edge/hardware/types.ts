/**
 * The two hardware contracts (docs/decisions/0008-hardware-ports.md). Each has a real adapter (nfc-pcsc, onoff, loaded
 * lazily) and a simulator that is product code; both pass the suites in tests/contracts/.
 */

/** A card presented to a reader. */
export interface CardEvent {
  /** The PC/SC reader name, e.g. "ACS ACR122U PICC Interface 00 00". */
  reader: string;
  /** Upper-case hex, no separators. */
  uid: string;
  /** Answer-to-reset, upper-case hex. */
  atr: string;
  /** Simulation only: the instant of the tap, when a test or the demo replays the past. */
  at?: number;
  /**
   * ISO 14443-4 cards only (NTAG 424 DNA, DESFire; nfc-pcsc with auto-processing off): sends one
   * command APDU to the card while it is on the reader and resolves with the response APDU,
   * SW1 SW2 included. Absent for ISO 14443-3 tags, whose UID is all they offer.
   */
  transmit?: (apdu: Buffer) => Promise<Buffer>;
}

export interface ReaderListener {
  card?(event: CardEvent): void;
  removed?(event: { reader: string }): void;
  /** A reader was unplugged or its PC/SC service went away. */
  lost?(reader: string, detail: string): void;
  found?(reader: string): void;
}

export interface Reader {
  start(): Promise<void>;
  /** Idempotent. */
  stop(): Promise<void>;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: ReaderListener): () => void;
  /** Names of the readers attached now. */
  attached(): string[];
  /** LED and beep: green and short when granted, red and long when denied. Never throws. */
  feedback(reader: string, granted: boolean): Promise<void>;
}

export interface OutputLine {
  readonly line: number;
  /** Logical level: true = active (relay energised), whatever the wiring polarity. */
  readonly active: boolean;
  write(active: boolean): void;
}

export interface InputLine {
  readonly line: number;
  /** Logical level after debounce: true = active (contact open / button pressed, per wiring). */
  read(): boolean;
  /** Called on each debounced change; returns the function that removes the listener. */
  onChange(fn: (active: boolean) => void): () => void;
}

export interface Gpio {
  /** Claims an output line. It starts inactive (de-energised): the safe state. */
  output(line: number, opts: { activeLow: boolean }): OutputLine;
  input(line: number, opts: { activeLow: boolean; debounceMs: number }): InputLine;
  /**
   * Drives every output to inactive, synchronously, so it can run from any exit path
   * (signal, uncaught exception, `process.on('exit')`). Never throws.
   */
  safeState(): void;
  /** Safe state, then releases the lines. Idempotent. */
  close(): Promise<void>;
}
