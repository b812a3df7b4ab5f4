import { aesCmac } from '../edge/badges/aes-cmac.js';
import { cardKeys, diversifyKey } from '../edge/badges/diversify.js';
import { doorKeysFrom } from '../edge/badges/door-keys.js';
import { SoftNtag424 } from '../edge/badges/soft-ntag424.js';
import { readSunMessage, verifySun } from '../edge/badges/sun.js';
import { createNtag424Verifier } from '../edge/site/secure-badges.js';
import { fmtMs, timeEach } from './stats.js';
import { silent } from '../tests/support/logger.js';

const MASTER = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');
const UID = '04DE5F1EACC040';
const AID = Buffer.from('3042F5', 'hex');
const SYSTEM = Buffer.from('Tessera', 'utf8');

/** Timing of an async operation repeated `count` times, one after the other. */
async function timeEachAsync(count: number, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(count / 2)] ?? NaN, p99: samples[Math.floor(count * 0.99)] ?? NaN };
}

/** NTAG 424 verification per tap, crypto only (no PC/SC transport), against one AES-CMAC. */
export async function benchNtag424(): Promise<string[]> {
  const keys = doorKeysFrom(MASTER);
  const card = new SoftNtag424({
    uid: UID,
    keys: cardKeys(MASTER, Buffer.from(UID, 'hex'), AID, SYSTEM).map((k) => k.key),
  });
  const transmit = (apdu: Buffer) => Promise.resolve(card.handle(apdu));
  const verifier = createNtag424Verifier(
    { doorKeyFile: '', check: 'authenticate', aid: '3042F5', systemIdentifier: 'Tessera' },
    keys,
    silent,
  );
  const tap = { reader: 'bench', uid: UID, atr: '3B8180018080', transmit };
  const auth = await timeEachAsync(2000, async () => {
    if ((await verifier.verify(tap, UID)).check !== 'genuine') throw new Error('the soft card did not authenticate');
  });
  const sun = (await readSunMessage(transmit)) ?? { e: Buffer.alloc(16), c: Buffer.alloc(8) };
  const fileKey = (uid: Buffer) => diversifyKey(keys.doorKeyMaster, uid, AID, SYSTEM);
  const sunTiming = timeEach(20_000, () =>
    verifySun({ encPiccData: sun.e, cmac: sun.c, metaReadKey: keys.metaReadKey, fileReadKey: fileKey }),
  );
  const block = Buffer.alloc(16, 1);
  const cmac = timeEach(20_000, () => aesCmac(keys.metaReadKey, block));
  return [
    '## NTAG 424 DNA verification per tap (crypto only, no PC/SC transport)',
    '',
    '| path | p50 | p99 | ratio to one AES-CMAC (p50) |',
    '|---|---|---|---|',
    `| authenticate: AuthenticateEV2First + GetCardUID, door and software card both in process | ${fmtMs(auth.p50)} | ${fmtMs(auth.p99)} | ${(auth.p50 / cmac.p50).toFixed(0)}× |`,
    `| SUN: decrypt PICCData, diversify, CMAC (door side only) | ${fmtMs(sunTiming.p50)} | ${fmtMs(sunTiming.p99)} | ${(sunTiming.p50 / cmac.p50).toFixed(0)}× |`,
    `| baseline: one AES-128 CMAC of 16 bytes | ${fmtMs(cmac.p50)} | ${fmtMs(cmac.p99)} | 1× |`,
    '',
    'On a reader the APDU round trips dominate: about 4 APDUs for authenticate (10-30 ms each on an ACR122U, ~45 ms on vpcd), 4 for SUN.',
  ];
}
