/**
 * APDU framing shared by the reader side and the software card: ISO 7816-4 status words and
 * NTAG 424's native commands wrapped in ISO frames (CLA 90), as PC/SC readers pass them.
 */

/** Sends one command APDU to the card on the reader; resolves with the response, SW1 SW2 included. */
export type Transmit = (apdu: Buffer) => Promise<Buffer>;

export const SW = {
  /** ISO 7816-4 success. */
  OK: 0x9000,
  /** Native command success (91 00). */
  NATIVE_OK: 0x9100,
  /** Native: more frames follow (AuthenticateEV2First part 1). */
  ADDITIONAL_FRAME: 0x91af,
  AUTHENTICATION_ERROR: 0x91ae,
  INTEGRITY_ERROR: 0x911e,
  ILLEGAL_COMMAND: 0x911c,
  NATIVE_LENGTH_ERROR: 0x917e,
  NO_SUCH_KEY: 0x9140,
  PERMISSION_DENIED: 0x919d,
  PARAMETER_ERROR: 0x919e,
  BOUNDARY_ERROR: 0x91be,
  NATIVE_FILE_NOT_FOUND: 0x91f0,
  WRONG_LENGTH: 0x6700,
  NO_CURRENT_EF: 0x6986,
  FILE_NOT_FOUND: 0x6a82,
  WRONG_P1P2: 0x6a86,
  OFFSET_OUT_OF_RANGE: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
} as const;

/** The NTAG 424 DNA application (NFC Forum Type 4 Tag NDEF application) and its NDEF file. */
export const NTAG424_AID = Buffer.from('D2760000850101', 'hex');
export const NDEF_FILE_ID = 0xe104;

export type Ntag424ErrorCode = 'auth_failed' | 'bad_response' | 'transport';

/** A card exchange that failed; `code` is stable, `status` is the card's SW1 SW2 when it sent one. */
export class Ntag424Error extends Error {
  constructor(
    readonly code: Ntag424ErrorCode,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'Ntag424Error';
  }
}

export interface Response {
  data: Buffer;
  status: number;
}

/** A response APDU: body and status word. */
export function respond(data: Buffer, status: number): Buffer {
  return Buffer.concat([data, Buffer.from([status >> 8, status & 0xff])]);
}

export const hexStatus = (status: number) => status.toString(16).toUpperCase().padStart(4, '0');

/** Sends one APDU; a failing reader or a response too short to hold a status word is a transport error. */
export async function exchange(transmit: Transmit, apdu: Buffer): Promise<Response> {
  let response: Buffer;
  try {
    response = await transmit(apdu);
  } catch (err) {
    throw new Ntag424Error('transport', `the reader failed to exchange an APDU: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
  if (response.length < 2)
    throw new Ntag424Error('transport', `the reader returned ${response.length} bytes, not even a status word`);
  return { data: response.subarray(0, -2), status: response.readUInt16BE(response.length - 2) };
}

/** A native command in an ISO 7816-4 frame: 90 INS 00 00 [Lc data] 00. */
export function nativeApdu(ins: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const lc = data.length > 0 ? [data.length] : [];
  return Buffer.concat([Buffer.from([0x90, ins, 0x00, 0x00, ...lc]), data, Buffer.from([0x00])]);
}

/** ISO SELECT of the NTAG 424 application by name, as NXP AN12196 gives it. */
export const SELECT_APPLICATION = Buffer.concat([
  Buffer.from([0x00, 0xa4, 0x04, 0x00, NTAG424_AID.length]),
  NTAG424_AID,
  Buffer.from([0x00]),
]);
/** ISO SELECT of the NDEF file by id, no answer data asked (P2 0C). */
export const SELECT_NDEF_FILE = Buffer.from([0x00, 0xa4, 0x00, 0x0c, 0x02, NDEF_FILE_ID >> 8, NDEF_FILE_ID & 0xff]);

export function readBinaryApdu(offset: number, length: number): Buffer {
  return Buffer.from([0x00, 0xb0, (offset >> 8) & 0x7f, offset & 0xff, length & 0xff]);
}

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Buffer;
  /** Expected response length; 256 when Le is 00; undefined when absent. */
  le: number | undefined;
}

/** Short APDUs only (the NTAG 424 takes no extended ones on this path); undefined when the lengths do not add up. */
export function parseCommandApdu(apdu: Buffer): CommandApdu | undefined {
  if (apdu.length < 4) return undefined;
  const [cla, ins, p1, p2] = [apdu[0]!, apdu[1]!, apdu[2]!, apdu[3]!];
  if (apdu.length === 4) return { cla, ins, p1, p2, data: Buffer.alloc(0), le: undefined };
  if (apdu.length === 5) return { cla, ins, p1, p2, data: Buffer.alloc(0), le: apdu[4]! || 256 };
  const lc = apdu[4]!;
  if (lc === 0 || (apdu.length !== 5 + lc && apdu.length !== 6 + lc)) return undefined;
  const le = apdu.length === 6 + lc ? apdu[5 + lc]! || 256 : undefined;
  return { cla, ins, p1, p2, data: apdu.subarray(5, 5 + lc), le };
}
