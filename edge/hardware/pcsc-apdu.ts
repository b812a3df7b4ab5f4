/**
 * The few APDUs the PC/SC adapter sends itself. Class FF commands are "pseudo-APDUs": the reader
 * (ACR122U and its kin) answers them instead of passing them to the card.
 */

/** Get Data, current UID: answered by ACR122U-class readers for ISO 14443-3 and -4 cards alike. */
export const GET_UID_APDU = Buffer.from([0xff, 0xca, 0x00, 0x00, 0x00]);

/** Room for a short APDU's 256 data bytes plus SW1 SW2. */
export const MAX_RESPONSE_BYTES = 258;

/**
 * ACR122U "Bi-Color LED and Buzzer Control" (FF 00 40 P2 04 T1 T2 repeat buzzer). P2 only asks
 * for blinking (bits 4-7) and leaves the final LED state alone (bits 0-3), so the reader's own
 * idle LED comes back afterwards. T1 and T2 are in 100 ms steps; buzzer 01 sounds during T1.
 */
export function feedbackApdu(granted: boolean): Buffer {
  return granted
    ? // Green on for 200 ms with a short beep.
      Buffer.from([0xff, 0x00, 0x40, 0xa0, 0x04, 0x02, 0x01, 0x01, 0x01])
    : // Red on for 800 ms with a long beep.
      Buffer.from([0xff, 0x00, 0x40, 0x50, 0x04, 0x08, 0x01, 0x01, 0x01]);
}

/** SW1 SW2 of a response APDU, or undefined when it is too short to hold them. */
export function statusWord(response: Buffer): number | undefined {
  return response.length >= 2 ? response.readUInt16BE(response.length - 2) : undefined;
}

/** The ACR122U answers the LED command with 90 and the LED state it ended in, not always 90 00. */
export function feedbackAccepted(response: Buffer): boolean {
  return response.length === 2 && response[0] === 0x90;
}

/**
 * ISO 14443-4 (speaks APDUs) versus ISO 14443-3 (a UID and memory pages). Same rule as nfc-pcsc:
 * the ACR122U's ATR for a 14443-3 tag has 0x4F (the PC/SC "RID follows" tag) at byte 5.
 */
export function isIso14443_4(atr: Buffer): boolean {
  return atr[5] !== 0x4f;
}

export function toHex(bytes: Buffer): string {
  return bytes.toString('hex').toUpperCase();
}
