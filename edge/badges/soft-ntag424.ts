import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { SimCard } from '../hardware/sim-reader.js';
import { ISO14443_4_ATR } from '../hardware/sim-reader.js';
import { aesCbcDecrypt, aesCbcEncrypt, BLOCK } from './aes-cmac.js';
import type { CommandApdu } from './apdu.js';
import { NDEF_FILE_ID, NTAG424_AID, parseCommandApdu, respond, SW } from './apdu.js';
import { uriMessage } from './ndef.js';
import type { Ev2Session } from './secure-messaging.js';
import { encryptResponseData, rotateLeft, secureMac, sessionKeys } from './secure-messaging.js';
import { counterBytes, PICC_DATA_TAG, sunMac } from './sun.js';

/**
 * A software NTAG 424 DNA: product code behind the secure-badge simulator and the tests
 * (docs/decisions/0008-hardware-ports.md). It answers what a door sends: ISO SELECT of the application and the NDEF
 * file, ReadBinary (with a fresh SUN message per read session), AuthenticateEV2First and
 * GetCardUID in CommMode.Full, with the card's own status words for anything else.
 */

export interface SoftNtag424Options {
  /** 7-byte UID in hex. */
  uid: string;
  /** The five application keys, slot order. */
  keys: Buffer[];
  /** SDMReadCtr before the first read; the first SUN message carries this plus one. */
  sdmCounter?: number;
  /** The URL the card mirrors into: `?e=..&c=..` (or `&e=..&c=..`) is appended. */
  url?: string;
  /** Key slots of the SDM meta read key (PICCData) and file read key (SDMMAC); 1 and 2 by default (docs/badges.md). */
  metaReadKeyNo?: number;
  fileReadKeyNo?: number;
  /** Source of RndB, TI and PICCData padding; tests may pin it. */
  random?: (n: number) => Buffer;
}

/** The NDEF file of an NTAG 424 DNA is 256 bytes; what follows the message reads as zeros. */
const NDEF_FILE_SIZE = 256;
const MAX_COUNTER = 0xffffff;
const INS = {
  SELECT: 0xa4,
  READ_BINARY: 0xb0,
  AUTHENTICATE_EV2_FIRST: 0x71,
  ADDITIONAL_FRAME: 0xaf,
  GET_CARD_UID: 0x51,
} as const;
const status = (sw: number) => respond(Buffer.alloc(0), sw);

export class SoftNtag424 implements SimCard {
  readonly atr = ISO14443_4_ATR;
  readonly uid: string;
  private readonly uidBytes: Buffer;
  private readonly keys: Buffer[];
  private readonly url: string;
  private readonly metaReadKeyNo: number;
  private readonly fileReadKeyNo: number;
  private readonly random: (n: number) => Buffer;
  private counter: number;
  private applicationSelected = false;
  private ndefSelected = false;
  /** The NDEF file as this read session sees it: the counter steps once per session, as a phone sees one step per tap. */
  private ndefImage: Buffer | undefined;
  private pendingAuth: { keyNo: number; rndB: Buffer } | undefined;
  private session: Ev2Session | undefined;

  constructor(opts: SoftNtag424Options) {
    const uid = opts.uid.replace(/[\s:]/g, '');
    if (!/^[0-9A-Fa-f]{14}$/.test(uid))
      throw new RangeError(`an NTAG 424 UID is 7 bytes of hex, got ${JSON.stringify(opts.uid)}`);
    this.uidBytes = Buffer.from(uid, 'hex');
    if (opts.keys.length !== 5 || opts.keys.some((k) => k.length !== BLOCK))
      throw new RangeError('an NTAG 424 holds five 16-byte AES keys');
    this.uid = this.uidBytes.toString('hex').toUpperCase();
    this.keys = opts.keys.map((k) => Buffer.from(k));
    this.url = opts.url ?? 'https://tessera.invalid/sun';
    this.metaReadKeyNo = opts.metaReadKeyNo ?? 1;
    this.fileReadKeyNo = opts.fileReadKeyNo ?? 2;
    this.random = opts.random ?? randomBytes;
    this.counter = opts.sdmCounter ?? 0;
    if (!this.keys[this.metaReadKeyNo] || !this.keys[this.fileReadKeyNo])
      throw new RangeError('SDM key numbers must be 0 to 4');
    if (!Number.isInteger(this.counter) || this.counter < 0 || this.counter >= MAX_COUNTER)
      throw new RangeError('sdmCounter must be 0 to 16777214');
    this.sunUrl(Buffer.alloc(16), Buffer.alloc(8)); // refuse a URL too long for the file now, not at the first tap
  }

  /** SDMReadCtr now: the counter of the last SUN message served. */
  get sdmCounter(): number {
    return this.counter;
  }

  handle(apdu: Buffer): Buffer {
    const command = parseCommandApdu(apdu);
    if (!command) return status(apdu[0] === 0x90 ? SW.NATIVE_LENGTH_ERROR : SW.WRONG_LENGTH);
    if (command.cla === 0x00) return this.iso(command);
    if (command.cla === 0x90) return this.native(command);
    return status(SW.CLA_NOT_SUPPORTED);
  }

  private iso(command: CommandApdu): Buffer {
    if (command.ins === INS.SELECT) return this.select(command);
    if (command.ins === INS.READ_BINARY) return this.readBinary(command);
    return status(SW.INS_NOT_SUPPORTED);
  }

  private native(command: CommandApdu): Buffer {
    const pending = this.pendingAuth;
    this.pendingAuth = undefined; // any other command aborts an authentication half-way
    switch (command.ins) {
      case INS.AUTHENTICATE_EV2_FIRST:
        return this.authenticatePart1(command.data);
      case INS.ADDITIONAL_FRAME:
        return pending ? this.authenticatePart2(pending, command.data) : status(SW.ILLEGAL_COMMAND);
      case INS.GET_CARD_UID:
        return this.getCardUid(command.data);
      default:
        return status(SW.ILLEGAL_COMMAND);
    }
  }

  /** Selecting resets authentication and starts a new NDEF read session, as on the card. */
  private select(command: CommandApdu): Buffer {
    this.session = undefined;
    this.ndefImage = undefined;
    if (command.p1 === 0x04 && command.data.equals(NTAG424_AID)) {
      this.applicationSelected = true;
      this.ndefSelected = false;
      return status(SW.OK);
    }
    if (
      command.p1 === 0x00 &&
      this.applicationSelected &&
      command.data.length === 2 &&
      command.data.readUInt16BE(0) === NDEF_FILE_ID
    ) {
      this.ndefSelected = true;
      return status(SW.OK);
    }
    return status(SW.FILE_NOT_FOUND);
  }

  private readBinary(command: CommandApdu): Buffer {
    if (!this.ndefSelected) return status(SW.NO_CURRENT_EF);
    if (command.p1 & 0x80) return status(SW.WRONG_P1P2); // short EF identifiers: not modelled
    const offset = (command.p1 << 8) | command.p2;
    if (offset >= NDEF_FILE_SIZE) return status(SW.OFFSET_OUT_OF_RANGE);
    this.ndefImage ??= this.nextNdefImage();
    return respond(this.ndefImage.subarray(offset, offset + (command.le ?? 256)), SW.OK);
  }

  /** A fresh SUN message: the counter steps, PICCData encrypted, SDMMAC over an empty input. */
  private nextNdefImage(): Buffer {
    // At the top of its range the real counter stops; the simulator keeps serving the last value.
    if (this.counter < MAX_COUNTER) this.counter += 1;
    const picc = Buffer.concat([
      Buffer.from([PICC_DATA_TAG]),
      this.uidBytes,
      counterBytes(this.counter),
      this.random(5),
    ]);
    const e = aesCbcEncrypt(this.keys[this.metaReadKeyNo]!, picc);
    const c = sunMac(this.keys[this.fileReadKeyNo]!, this.uidBytes, this.counter);
    return this.sunUrl(e, c);
  }

  private sunUrl(e: Buffer, c: Buffer): Buffer {
    const url = `${this.url}${this.url.includes('?') ? '&' : '?'}e=${e.toString('hex').toUpperCase()}&c=${c.toString('hex').toUpperCase()}`;
    const message = uriMessage(url);
    if (message.length + 2 > NDEF_FILE_SIZE)
      throw new RangeError(`the SUN URL does not fit the ${NDEF_FILE_SIZE}-byte NDEF file`);
    const file = Buffer.alloc(NDEF_FILE_SIZE);
    file.writeUInt16BE(message.length, 0);
    message.copy(file, 2);
    return file;
  }

  private authenticatePart1(data: Buffer): Buffer {
    this.session = undefined;
    const [keyNo, lenCap] = [data[0], data[1]];
    if (keyNo === undefined || lenCap === undefined || data.length !== 2 + lenCap)
      return status(SW.NATIVE_LENGTH_ERROR);
    const key = this.keys[keyNo];
    if (!key) return status(SW.NO_SUCH_KEY);
    const rndB = this.random(BLOCK);
    this.pendingAuth = { keyNo, rndB };
    return respond(aesCbcEncrypt(key, rndB), SW.ADDITIONAL_FRAME);
  }

  /** Checks RndB' from the reader; a reader without the key gets 91 AE and no session. */
  private authenticatePart2(pending: { keyNo: number; rndB: Buffer }, data: Buffer): Buffer {
    if (data.length !== 2 * BLOCK) return status(SW.NATIVE_LENGTH_ERROR);
    const key = this.keys[pending.keyNo]!;
    const plain = aesCbcDecrypt(key, data);
    const rndA = plain.subarray(0, BLOCK);
    if (!timingSafeEqual(plain.subarray(BLOCK), rotateLeft(pending.rndB))) return status(SW.AUTHENTICATION_ERROR);
    const ti = this.random(4);
    this.session = { keyNo: pending.keyNo, ti, ...sessionKeys(key, rndA, pending.rndB), cmdCtr: 0 };
    const answer = Buffer.concat([ti, rotateLeft(rndA), Buffer.alloc(6), Buffer.alloc(6)]);
    return respond(aesCbcEncrypt(key, answer), SW.NATIVE_OK);
  }

  /** GetCardUID, CommMode.Full: the command MAC must check, the UID goes back encrypted and MACed. */
  private getCardUid(data: Buffer): Buffer {
    const session = this.session;
    if (!session) return status(SW.AUTHENTICATION_ERROR);
    if (data.length !== 8) return status(SW.NATIVE_LENGTH_ERROR);
    if (!timingSafeEqual(secureMac(session, INS.GET_CARD_UID, session.cmdCtr), data)) {
      this.session = undefined;
      return status(SW.INTEGRITY_ERROR);
    }
    session.cmdCtr += 1;
    const encrypted = encryptResponseData(session, this.uidBytes, session.cmdCtr);
    return respond(Buffer.concat([encrypted, secureMac(session, 0x00, session.cmdCtr, encrypted)]), SW.NATIVE_OK);
  }
}
