import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { SimCard } from '../hardware/sim-reader.js';
import { ISO14443_4_ATR } from '../hardware/sim-reader.js';
import { aesCbcDecrypt, aesCbcEncrypt, BLOCK } from './aes-cmac.js';
import type { CommandApdu } from './apdu.js';
import { NDEF_FILE_ID, NTAG424_AID, parseCommandApdu, respond, SW } from './apdu.js';
import type { FileSettings } from './personalise-commands.js';
import {
  encodeFileSettingsAnswer,
  FACTORY_NDEF_SETTINGS,
  FREE,
  INS as PERSONALISE_INS,
  NDEF_FILE_NO,
  NDEF_FILE_SIZE,
  parseFileSettings,
  sunFileSettings,
  sunNdefTemplate,
  writeMode,
} from './personalise-commands.js';
import type { Ev2Session } from './secure-messaging.js';
import {
  crc32Nk,
  decryptCommandData,
  encryptResponseData,
  rotateLeft,
  secureMac,
  sessionKeys,
} from './secure-messaging.js';
import { counterBytes, sunMac } from './sun.js';

/**
 * A software NTAG 424 DNA: product code behind the secure-badge simulator and the tests
 * (docs/decisions/0008-hardware-ports.md). It answers what a door sends: ISO SELECT of the application and the NDEF
 * file, ReadBinary (with a fresh SUN message per read session), AuthenticateEV2First and
 * GetCardUID in CommMode.Full; and what personalisation sends: ChangeKey, WriteData and
 * ChangeFileSettings of the NDEF file, with real secure messaging, kept in the card's state.
 * Anything else gets the card's own status words.
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
  /** Factory state: key versions 0, empty NDEF file with factory settings (url and SDM key numbers unused). */
  blank?: boolean;
  /** The NDEF file's settings on a blank card, when not the factory's: a card someone set up otherwise. */
  blankFileSettings?: FileSettings;
}

const MAX_COUNTER = 0xffffff;
const INS = {
  SELECT: 0xa4,
  READ_BINARY: 0xb0,
  AUTHENTICATE_EV2_FIRST: 0x71,
  ADDITIONAL_FRAME: 0xaf,
  GET_CARD_UID: 0x51,
  ...PERSONALISE_INS,
} as const;
const MAC_LENGTH = 8;
const status = (sw: number) => respond(Buffer.alloc(0), sw);

export class SoftNtag424 implements SimCard {
  readonly atr = ISO14443_4_ATR;
  readonly uid: string;
  private readonly uidBytes: Buffer;
  private readonly keys: Buffer[];
  private readonly keyVersions: number[];
  /** The NDEF file as written (placeholders, not mirrored values) and its settings. */
  private readonly ndef: Buffer;
  private ndefSettings: FileSettings;
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
    this.keyVersions = opts.keys.map(() => (opts.blank ? 0 : 1));
    const metaReadKeyNo = opts.metaReadKeyNo ?? 1;
    const fileReadKeyNo = opts.fileReadKeyNo ?? 2;
    this.random = opts.random ?? randomBytes;
    this.counter = opts.sdmCounter ?? 0;
    if (!this.keys[metaReadKeyNo] || !this.keys[fileReadKeyNo]) throw new RangeError('SDM key numbers must be 0 to 4');
    if (!Number.isInteger(this.counter) || this.counter < 0 || this.counter >= MAX_COUNTER)
      throw new RangeError('sdmCounter must be 0 to 16777214');
    this.ndef = Buffer.alloc(NDEF_FILE_SIZE);
    if (opts.blank) {
      this.ndefSettings = structuredClone(opts.blankFileSettings ?? FACTORY_NDEF_SETTINGS);
    } else {
      // Throws now for a URL too long for the file, not at the first tap.
      const template = sunNdefTemplate(opts.url ?? 'https://tessera.invalid/sun');
      template.file.copy(this.ndef);
      this.ndefSettings = sunFileSettings(template, metaReadKeyNo, fileReadKeyNo);
    }
  }

  /** A card as it leaves the factory: five zero keys at version 0, an empty NDEF file, plain and free to write. */
  static blank(
    uid: string,
    opts: { random?: (n: number) => Buffer; blankFileSettings?: FileSettings } = {},
  ): SoftNtag424 {
    return new SoftNtag424({ uid, keys: Array.from({ length: 5 }, () => Buffer.alloc(BLOCK)), blank: true, ...opts });
  }

  /**
   * What the card holds, for tests: keys, key versions, the NDEF file as written and its
   * settings. A real card never tells its keys; this is the simulator's inside view.
   */
  state(): { keys: string[]; keyVersions: number[]; ndef: Buffer; settings: FileSettings } {
    return {
      keys: this.keys.map((k) => k.toString('hex').toUpperCase()),
      keyVersions: [...this.keyVersions],
      ndef: Buffer.from(this.ndef),
      settings: structuredClone(this.ndefSettings),
    };
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
      case INS.CHANGE_KEY:
        return this.failed(this.changeKey(command.data));
      case INS.WRITE_DATA:
        return this.failed(this.writeData(command.data));
      case INS.CHANGE_FILE_SETTINGS:
        return this.failed(this.changeFileSettings(command.data));
      case INS.GET_FILE_SETTINGS:
        return this.failed(this.getFileSettings(command.data));
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

  /**
   * The NDEF file as this read sees it: with SDM on, the counter steps and PICCData (encrypted
   * with the meta read key) and the SDMMAC (under the file read key, over the file bytes from
   * SDMMACInputOffset to SDMMACOffset) are mirrored over the placeholders, in ASCII hex.
   */
  private nextNdefImage(): Buffer {
    const image = Buffer.from(this.ndef);
    const sdm = this.ndefSettings.sdm;
    if (!sdm) return image;
    // At the top of its range the real counter stops; the simulator keeps serving the last value.
    if (this.counter < MAX_COUNTER) this.counter += 1;
    const ascii = (bytes: Buffer) => Buffer.from(bytes.toString('hex').toUpperCase(), 'ascii');
    if (sdm.metaRead <= 4 && sdm.piccDataOffset !== undefined) {
      const tag = (sdm.uidMirror ? 0x80 | this.uidBytes.length : 0) | (sdm.readCtrMirror ? 0x40 : 0);
      const fields = [
        Buffer.from([tag]),
        sdm.uidMirror ? this.uidBytes : Buffer.alloc(0),
        sdm.readCtrMirror ? counterBytes(this.counter) : Buffer.alloc(0),
      ];
      const plain = Buffer.concat(fields);
      const picc = Buffer.concat([plain, this.random(BLOCK - plain.length)]);
      ascii(aesCbcEncrypt(this.keys[sdm.metaRead]!, picc)).copy(image, sdm.piccDataOffset);
    }
    if (sdm.fileRead <= 4 && sdm.macOffset !== undefined && sdm.macInputOffset !== undefined) {
      const macInput = image.subarray(sdm.macInputOffset, sdm.macOffset);
      ascii(sunMac(this.keys[sdm.fileRead]!, this.uidBytes, this.counter, macInput)).copy(image, sdm.macOffset);
    }
    return image;
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

  /** Answers a refused personalisation command: any error ends the session, as on the card. */
  private failed(answer: Buffer | number): Buffer {
    if (typeof answer !== 'number') return answer;
    this.session = undefined;
    return status(answer);
  }

  /** Checks the MAC closing a command of the session; on success the counter steps. */
  private macOk(session: Ev2Session, ins: number, body: Buffer): boolean {
    if (body.length < MAC_LENGTH) return false;
    const mac = body.subarray(body.length - MAC_LENGTH);
    return timingSafeEqual(secureMac(session, ins, session.cmdCtr, body.subarray(0, body.length - MAC_LENGTH)), mac);
  }

  /** The answer of a MACed command with no data: MACt over 00 ‖ CmdCtr+1 ‖ TI. */
  private macAnswer(session: Ev2Session): Buffer {
    session.cmdCtr = (session.cmdCtr + 1) & 0xffff;
    return respond(secureMac(session, 0x00, session.cmdCtr), SW.NATIVE_OK);
  }

  /**
   * ChangeKey, CommMode.Full, with the application master key (0). The card checks the MAC,
   * decrypts, and for a key other than the session's undoes the XOR with the old key and checks
   * the CRC32 of the new key: a reader that does not know the old key changes nothing.
   */
  private changeKey(data: Buffer): Buffer | number {
    const session = this.session;
    if (!session) return SW.AUTHENTICATION_ERROR;
    if (data.length !== 1 + 2 * BLOCK + MAC_LENGTH) return SW.NATIVE_LENGTH_ERROR;
    if (session.keyNo !== 0) return SW.PERMISSION_DENIED;
    if (!this.macOk(session, INS.CHANGE_KEY, data)) return SW.INTEGRITY_ERROR;
    const keyNo = data[0]!;
    if (keyNo > 4) return SW.NO_SUCH_KEY;
    const plain = decryptCommandData(session, data.subarray(1, 1 + 2 * BLOCK));
    if (keyNo === session.keyNo) {
      if (plain?.length !== BLOCK + 1) return SW.INTEGRITY_ERROR;
      this.keys[keyNo] = Buffer.from(plain.subarray(0, BLOCK));
      this.keyVersions[keyNo] = plain[BLOCK]!;
      this.session = undefined; // the session's own key changed: it ends, and the answer carries no MAC
      return status(SW.NATIVE_OK);
    }
    if (plain?.length !== BLOCK + 5) return SW.INTEGRITY_ERROR;
    const newKey = Buffer.alloc(BLOCK);
    for (let i = 0; i < BLOCK; i++) newKey[i] = plain[i]! ^ this.keys[keyNo]![i]!;
    if (!crc32Nk(newKey).equals(plain.subarray(BLOCK + 1))) return SW.INTEGRITY_ERROR;
    this.keys[keyNo] = newKey;
    this.keyVersions[keyNo] = plain[BLOCK]!;
    return this.macAnswer(session);
  }

  /**
   * WriteData to the NDEF file. Free write access takes the command plain (the counter still
   * steps in a session); otherwise the session must hold the write key and the command comes in
   * the file's comm mode.
   */
  private writeData(data: Buffer): Buffer | number {
    if (data.length < 7) return SW.NATIVE_LENGTH_ERROR;
    if (data[0] !== NDEF_FILE_NO) return SW.NATIVE_FILE_NOT_FOUND;
    const offset = data.readUIntLE(1, 3);
    const length = data.readUIntLE(4, 3);
    const { access } = this.ndefSettings;
    const session = this.session;
    const mode = writeMode(this.ndefSettings);
    const free = access.write === FREE || access.readWrite === FREE;
    if (!free && (!session || (session.keyNo !== access.write && session.keyNo !== access.readWrite)))
      return SW.PERMISSION_DENIED;
    let content = data.subarray(7);
    if (mode !== 'plain') {
      if (!this.macOk(session!, INS.WRITE_DATA, data)) return SW.INTEGRITY_ERROR;
      content = content.subarray(0, content.length - MAC_LENGTH);
      if (mode === 'full') {
        const plain = decryptCommandData(session!, content);
        if (!plain) return SW.INTEGRITY_ERROR;
        content = plain;
      }
    }
    if (content.length !== length || length === 0) return SW.NATIVE_LENGTH_ERROR;
    if (offset + length > NDEF_FILE_SIZE) return SW.BOUNDARY_ERROR;
    content.copy(this.ndef, offset);
    if (mode !== 'plain') return this.macAnswer(session!);
    if (session) session.cmdCtr = (session.cmdCtr + 1) & 0xffff;
    return status(SW.NATIVE_OK);
  }

  /** GetFileSettings of the NDEF file: plain without a session, CommMode.MAC within one. */
  private getFileSettings(data: Buffer): Buffer | number {
    const session = this.session;
    if (data.length !== (session ? 1 + MAC_LENGTH : 1)) return SW.NATIVE_LENGTH_ERROR;
    if (data[0] !== NDEF_FILE_NO) return SW.NATIVE_FILE_NOT_FOUND;
    const answer = encodeFileSettingsAnswer(this.ndefSettings, NDEF_FILE_SIZE);
    if (!session) return respond(answer, SW.NATIVE_OK);
    if (!this.macOk(session, INS.GET_FILE_SETTINGS, data)) return SW.INTEGRITY_ERROR;
    session.cmdCtr = (session.cmdCtr + 1) & 0xffff;
    return respond(Buffer.concat([answer, secureMac(session, 0x00, session.cmdCtr, answer)]), SW.NATIVE_OK);
  }

  /** ChangeFileSettings of the NDEF file, CommMode.Full, with the key of its change right. */
  private changeFileSettings(data: Buffer): Buffer | number {
    const session = this.session;
    if (!session) return SW.AUTHENTICATION_ERROR;
    if (data.length < 1 + BLOCK + MAC_LENGTH) return SW.NATIVE_LENGTH_ERROR;
    if (data[0] !== NDEF_FILE_NO) return SW.NATIVE_FILE_NOT_FOUND;
    if (session.keyNo !== this.ndefSettings.access.change) return SW.PERMISSION_DENIED;
    if (!this.macOk(session, INS.CHANGE_FILE_SETTINGS, data)) return SW.INTEGRITY_ERROR;
    const plain = decryptCommandData(session, data.subarray(1, data.length - MAC_LENGTH));
    if (!plain) return SW.INTEGRITY_ERROR;
    const settings = parseFileSettings(plain);
    if (!settings || !simulated(settings)) return SW.PARAMETER_ERROR;
    this.ndefSettings = settings;
    return this.macAnswer(session);
  }
}

const inFile = (offset: number | undefined, length: number) =>
  offset !== undefined && offset + length <= NDEF_FILE_SIZE;

/**
 * The SDM settings this simulator mirrors: ASCII, PICCData encrypted with a key (or no
 * mirror), a MAC after its input, nothing overlapping. Plain UID mirroring, encrypted file data
 * and the read counter limit are refused rather than half-simulated.
 */
function simulated(settings: FileSettings): boolean {
  const sdm = settings.sdm;
  if (!sdm) return true;
  if (!sdm.ascii || sdm.encFileData || sdm.readCtrLimit || sdm.metaRead === FREE || sdm.fileRead === FREE) return false;
  if ([sdm.metaRead, sdm.fileRead, sdm.ctrRet].some((k) => k > 4 && k < FREE)) return false;
  const picc = sdm.metaRead <= 4;
  const mac = sdm.fileRead <= 4;
  if (picc && !inFile(sdm.piccDataOffset, 32)) return false;
  if (mac && (!inFile(sdm.macOffset, 16) || sdm.macInputOffset! > sdm.macOffset!)) return false;
  if (picc && mac) {
    const [p, m] = [sdm.piccDataOffset!, sdm.macOffset!];
    if (p < m + 16 && m < p + 32) return false;
  }
  return true;
}
