import { timingSafeEqual } from 'node:crypto';
import { BLOCK } from './aes-cmac.js';
import type { Transmit } from './apdu.js';
import { exchange, nativeApdu, Ntag424Error, SW } from './apdu.js';
import { fullModeCommand, fullModeResponse, refused } from './ev2.js';
import { uriMessage } from './ndef.js';
import type { Ev2Session } from './secure-messaging.js';
import { crc32Nk, secureMac } from './secure-messaging.js';

/**
 * The three NTAG 424 DNA commands that personalise a card (NT4H2421Gx, AN12196): ChangeKey,
 * WriteData and ChangeFileSettings, with the encodings both ends share (the reader side here,
 * the software card in soft-ntag424.ts), and the NDEF template a SUN badge carries.
 */

export const INS = { CHANGE_KEY: 0xc4, WRITE_DATA: 0x8d, CHANGE_FILE_SETTINGS: 0x5f, GET_FILE_SETTINGS: 0xf5 } as const;
/** The native file number of the NDEF file (ISO id E104). */
export const NDEF_FILE_NO = 0x02;
/** The NDEF file of an NTAG 424 DNA is 256 bytes. */
export const NDEF_FILE_SIZE = 256;
/** Access condition nibble: free access; F is no access. */
export const FREE = 0xe;
export const NO_ACCESS = 0xf;

export type CommMode = 'plain' | 'mac' | 'full';

export interface AccessRights {
  read: number;
  write: number;
  readWrite: number;
  change: number;
}

/** Secure Dynamic Messaging settings of a file (NT4H2421Gx, ChangeFileSettings). Offsets count from the start of the file. */
export interface SdmSettings {
  uidMirror: boolean;
  readCtrMirror: boolean;
  readCtrLimit: boolean;
  encFileData: boolean;
  ascii: boolean;
  /** SDMCtrRet, SDMMetaRead, SDMFileRead: key numbers, E free, F none. */
  ctrRet: number;
  metaRead: number;
  fileRead: number;
  uidOffset?: number;
  readCtrOffset?: number;
  piccDataOffset?: number;
  macInputOffset?: number;
  encOffset?: number;
  encLength?: number;
  macOffset?: number;
  readCtrLimitValue?: number;
}

export interface FileSettings {
  commMode: CommMode;
  access: AccessRights;
  sdm?: SdmSettings;
}

/** A factory NDEF file: plain, read and write free, settings changed with key 0. */
export const FACTORY_NDEF_SETTINGS: FileSettings = {
  commMode: 'plain',
  access: { read: FREE, write: FREE, readWrite: FREE, change: 0 },
};

const COMM_MODE_BITS: Record<CommMode, number> = { plain: 0b00, mac: 0b01, full: 0b11 };
const SDM_ENABLED = 0x40;

function uint24(value: number): Buffer {
  const out = Buffer.alloc(3);
  out.writeUIntLE(value, 0, 3);
  return out;
}

/** Which offsets a file's SDM settings carry, in the order ChangeFileSettings sends them. */
function sdmFields(sdm: SdmSettings): (keyof SdmSettings)[] {
  const fields: (keyof SdmSettings)[] = [];
  if (sdm.uidMirror && sdm.metaRead === FREE) fields.push('uidOffset');
  if (sdm.readCtrMirror && sdm.metaRead === FREE) fields.push('readCtrOffset');
  if (sdm.metaRead <= 4) fields.push('piccDataOffset');
  if (sdm.fileRead !== NO_ACCESS) {
    fields.push('macInputOffset');
    if (sdm.encFileData) fields.push('encOffset', 'encLength');
    fields.push('macOffset');
  }
  if (sdm.readCtrLimit) fields.push('readCtrLimitValue');
  return fields;
}

/** ChangeFileSettings command data: FileOption ‖ AccessRights ‖ [SDMOptions ‖ SDMAccessRights ‖ offsets]. */
export function encodeFileSettings(settings: FileSettings): Buffer {
  const { access, sdm } = settings;
  const parts: Buffer[] = [
    Buffer.from([
      COMM_MODE_BITS[settings.commMode] | (sdm ? SDM_ENABLED : 0),
      (access.readWrite << 4) | access.change,
      (access.read << 4) | access.write,
    ]),
  ];
  if (sdm) {
    const options =
      (sdm.uidMirror ? 0x80 : 0) |
      (sdm.readCtrMirror ? 0x40 : 0) |
      (sdm.readCtrLimit ? 0x20 : 0) |
      (sdm.encFileData ? 0x10 : 0) |
      (sdm.ascii ? 0x01 : 0);
    parts.push(Buffer.from([options, 0xf0 | sdm.ctrRet, (sdm.metaRead << 4) | sdm.fileRead]));
    for (const field of sdmFields(sdm)) {
      const value = sdm[field];
      if (typeof value !== 'number') throw new RangeError(`SDM settings need ${field}`);
      parts.push(uint24(value));
    }
  }
  return Buffer.concat(parts);
}

/** The card's reading of ChangeFileSettings data; undefined when it is not well formed. */
export function parseFileSettings(data: Buffer): FileSettings | undefined {
  if (data.length < 3) return undefined;
  const option = data[0]!;
  if ((option & ~(SDM_ENABLED | 0b11)) !== 0) return undefined;
  const commMode = (Object.keys(COMM_MODE_BITS) as CommMode[]).find((m) => COMM_MODE_BITS[m] === (option & 0b11));
  if (!commMode) return undefined;
  const access = { readWrite: data[1]! >> 4, change: data[1]! & 0x0f, read: data[2]! >> 4, write: data[2]! & 0x0f };
  if (!(option & SDM_ENABLED)) return data.length === 3 ? { commMode, access } : undefined;
  if (data.length < 6) return undefined;
  const options = data[3]!;
  if ((options & 0x0e) !== 0 || data[4]! >> 4 !== 0x0f) return undefined;
  const sdm: SdmSettings = {
    uidMirror: (options & 0x80) !== 0,
    readCtrMirror: (options & 0x40) !== 0,
    readCtrLimit: (options & 0x20) !== 0,
    encFileData: (options & 0x10) !== 0,
    ascii: (options & 0x01) !== 0,
    ctrRet: data[4]! & 0x0f,
    metaRead: data[5]! >> 4,
    fileRead: data[5]! & 0x0f,
  };
  const fields = sdmFields(sdm);
  if (data.length !== 6 + 3 * fields.length) return undefined;
  fields.forEach((field, i) => Object.assign(sdm, { [field]: data.readUIntLE(6 + 3 * i, 3) }));
  return { commMode, access, sdm };
}

const E_LENGTH = 32;
const C_LENGTH = 16;

/**
 * The NDEF file a SUN badge carries: NLEN ‖ one URI record holding `url` followed by
 * `e=` 32 zeros `&c=` 16 zeros, the placeholders the card overwrites on each read. The offsets
 * are counted in the file, NLEN included, as ChangeFileSettings wants them.
 */
export function sunNdefTemplate(url: string): { file: Buffer; piccDataOffset: number; macOffset: number } {
  const marker = `e=${'0'.repeat(E_LENGTH)}&c=${'0'.repeat(C_LENGTH)}`;
  const message = uriMessage(`${url}${url.includes('?') ? '&' : '?'}${marker}`);
  if (message.length + 2 > NDEF_FILE_SIZE)
    throw new RangeError(`the SUN URL does not fit the ${NDEF_FILE_SIZE}-byte NDEF file`);
  const file = Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message]);
  const at = file.lastIndexOf(Buffer.from(marker, 'ascii'));
  const piccDataOffset = at + 2;
  return { file, piccDataOffset, macOffset: piccDataOffset + E_LENGTH + 3 };
}

/**
 * The SDM settings of our badges (docs/badges.md): plain file, read free, write and change with
 * key 0; UID and counter mirrored, encrypted with `metaRead`, MACed with `fileRead` over no URL
 * text (SDMMACInputOffset = SDMMACOffset).
 */
export function sunFileSettings(
  template: { piccDataOffset: number; macOffset: number },
  metaRead: number,
  fileRead: number,
): FileSettings {
  return {
    commMode: 'plain',
    access: { read: FREE, write: 0, readWrite: 0, change: 0 },
    sdm: {
      uidMirror: true,
      readCtrMirror: true,
      readCtrLimit: false,
      encFileData: false,
      ascii: true,
      ctrRet: NO_ACCESS,
      metaRead,
      fileRead,
      piccDataOffset: template.piccDataOffset,
      macInputOffset: template.macOffset,
      macOffset: template.macOffset,
    },
  };
}

function checkKeyNo(keyNo: number): void {
  if (!Number.isInteger(keyNo) || keyNo < 0 || keyNo > 4)
    throw new RangeError(`key number must be 0 to 4, got ${keyNo}`);
}

/**
 * ChangeKey's plain data: NewKey ‖ KeyVer for the key of the session (no old key needed),
 * (NewKey ⊕ OldKey) ‖ KeyVer ‖ CRC32NK(NewKey) for any other key.
 */
export function changeKeyData(
  session: Ev2Session,
  keyNo: number,
  newKey: Buffer,
  version: number,
  oldKey?: Buffer,
): Buffer {
  checkKeyNo(keyNo);
  if (newKey.length !== BLOCK) throw new RangeError(`the new key must be 16 bytes, got ${newKey.length}`);
  if (!Number.isInteger(version) || version < 0 || version > 0xff) throw new RangeError('key version must be a byte');
  if (keyNo === session.keyNo) return Buffer.concat([newKey, Buffer.from([version])]);
  if (!oldKey || oldKey.length !== BLOCK) throw new RangeError(`changing key ${keyNo} needs its 16-byte old key`);
  const xored = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) xored[i] = newKey[i]! ^ oldKey[i]!;
  return Buffer.concat([xored, Buffer.from([version]), crc32Nk(newKey)]);
}

/**
 * ChangeKey in CommMode.Full. Changing the key of the session ends the session: the card then
 * answers 91 00 without a MAC and the caller must authenticate again (the session is unusable).
 */
export async function changeKey(
  transmit: Transmit,
  session: Ev2Session,
  keyNo: number,
  newKey: Buffer,
  opts: { version: number; oldKey?: Buffer },
): Promise<void> {
  const data = changeKeyData(session, keyNo, newKey, opts.version, opts.oldKey);
  const what = `ChangeKey ${keyNo}`;
  const response = await exchange(transmit, fullModeCommand(session, INS.CHANGE_KEY, Buffer.from([keyNo]), data));
  if (keyNo !== session.keyNo) {
    fullModeResponse(session, response, what);
    return;
  }
  if (response.status !== SW.NATIVE_OK) throw refused(what, response.status);
  if (response.data.length !== 0)
    throw new Ntag424Error('bad_response', `${what}: expected no data after changing the session's key`);
}

/** WriteData's header: FileNo ‖ Offset ‖ Length, both 3 bytes little-endian. */
function writeHeader(fileNo: number, offset: number, length: number): Buffer {
  return Buffer.concat([Buffer.from([fileNo]), uint24(offset), uint24(length)]);
}

/** What fits one WriteData command in a short APDU, whatever the comm mode adds. */
const WRITE_CHUNK = 128;

/**
 * WriteData in the file's comm mode: `plain` needs no session when the write access is free,
 * and steps the session's counter when there is one; `mac` and `full` need a session with the
 * write key. Data longer than one command goes in several, each checked.
 */
export async function writeData(
  transmit: Transmit,
  session: Ev2Session | undefined,
  opts: { fileNo: number; offset: number; data: Buffer; mode: CommMode },
): Promise<void> {
  if (opts.offset < 0 || opts.offset + opts.data.length > 0xffffff) throw new RangeError('offset out of range');
  if (opts.mode !== 'plain' && !session) throw new RangeError(`WriteData in CommMode.${opts.mode} needs a session`);
  for (let at = 0; at < opts.data.length; at += WRITE_CHUNK) {
    const chunk = opts.data.subarray(at, at + WRITE_CHUNK);
    const header = writeHeader(opts.fileNo, opts.offset + at, chunk.length);
    const what = `WriteData at ${opts.offset + at}`;
    if (opts.mode === 'full') {
      fullModeResponse(
        session!,
        await exchange(transmit, fullModeCommand(session!, INS.WRITE_DATA, header, chunk)),
        what,
      );
      continue;
    }
    if (opts.mode === 'mac') {
      const mac = secureMac(session!, INS.WRITE_DATA, session!.cmdCtr, header, chunk);
      const apdu = nativeApdu(INS.WRITE_DATA, Buffer.concat([header, chunk, mac]));
      fullModeResponse(session!, await exchange(transmit, apdu), what);
      continue;
    }
    const response = await exchange(transmit, nativeApdu(INS.WRITE_DATA, Buffer.concat([header, chunk])));
    if (response.status !== SW.NATIVE_OK) throw refused(what, response.status);
    if (session) session.cmdCtr = (session.cmdCtr + 1) & 0xffff;
  }
}

/** ChangeFileSettings, always CommMode.Full, with the key of the file's change right. */
export async function changeFileSettings(
  transmit: Transmit,
  session: Ev2Session,
  fileNo: number,
  settings: FileSettings,
): Promise<void> {
  const apdu = fullModeCommand(session, INS.CHANGE_FILE_SETTINGS, Buffer.from([fileNo]), encodeFileSettings(settings));
  fullModeResponse(session, await exchange(transmit, apdu), `ChangeFileSettings of file ${fileNo}`);
}

/** GetFileSettings' answer: FileType (00, a standard data file) ‖ FileOption ‖ AccessRights ‖ FileSize ‖ [SDM part]. */
export function encodeFileSettingsAnswer(settings: FileSettings, size: number): Buffer {
  const encoded = encodeFileSettings(settings);
  return Buffer.concat([Buffer.from([0x00]), encoded.subarray(0, 3), uint24(size), encoded.subarray(3)]);
}

/** Reads GetFileSettings' answer; undefined when it is not a standard data file's well-formed settings. */
export function parseFileSettingsAnswer(data: Buffer): { settings: FileSettings; size: number } | undefined {
  if (data.length < 7 || data[0] !== 0x00) return undefined;
  const settings = parseFileSettings(Buffer.concat([data.subarray(1, 4), data.subarray(7)]));
  return settings && { settings, size: data.readUIntLE(4, 3) };
}

/**
 * GetFileSettings in CommMode.MAC: the command and the answer carry a MAC, the settings come
 * in clear. Tells the comm mode and rights a file wants before writing it.
 */
export async function getFileSettings(
  transmit: Transmit,
  session: Ev2Session,
  fileNo: number,
): Promise<{ settings: FileSettings; size: number }> {
  const what = `GetFileSettings of file ${fileNo}`;
  const header = Buffer.from([fileNo]);
  const mac = secureMac(session, INS.GET_FILE_SETTINGS, session.cmdCtr, header);
  const response = await exchange(transmit, nativeApdu(INS.GET_FILE_SETTINGS, Buffer.concat([header, mac])));
  if (response.status !== SW.NATIVE_OK) throw refused(what, response.status);
  session.cmdCtr = (session.cmdCtr + 1) & 0xffff;
  const { data } = response;
  if (data.length < 8) throw new Ntag424Error('bad_response', `${what}: the answer is too short to carry a MAC`);
  const body = data.subarray(0, data.length - 8);
  if (!timingSafeEqual(secureMac(session, 0x00, session.cmdCtr, body), data.subarray(data.length - 8)))
    throw new Ntag424Error('bad_response', `${what}: the answer's MAC is wrong`);
  const parsed = parseFileSettingsAnswer(body);
  if (!parsed) throw new Ntag424Error('bad_response', `${what}: the settings are not well formed`);
  return parsed;
}

/** The comm mode a write to a file with these settings takes: plain when the write is free. */
export function writeMode(settings: FileSettings): CommMode {
  const { access } = settings;
  return access.write === FREE || access.readWrite === FREE ? 'plain' : settings.commMode;
}
