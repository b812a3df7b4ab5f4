import type { Logger } from 'pino';
import type { SiteConfig } from '../../firmware-config/schema.js';
import { authenticateEV2First, getCardUid } from '../badges/ev2.js';
import { diversifyKey } from '../badges/diversify.js';
import type { DoorKeys } from '../badges/door-keys.js';
import { readSunMessage, verifySun } from '../badges/sun.js';
import type { CardEvent } from '../hardware/types.js';
import type { CardProof, CardVerifier } from './tap-handler.js';

type SecureBadges = NonNullable<SiteConfig['secureBadges']>;

/**
 * How the door checks an NTAG 424 DNA badge (docs/badges.md): `authenticate` runs
 * AuthenticateEV2First with the card's diversified door key and reads the real UID encrypted
 * (resists replay); `sun` reads the card's SUN message and returns its counter, which the tap
 * handler accepts only if it is newer than the last one stored for that card.
 */
export function createNtag424Verifier(cfg: SecureBadges, keys: DoorKeys, log: Logger): CardVerifier {
  const aid = Buffer.from(cfg.aid, 'hex');
  const system = Buffer.from(cfg.systemIdentifier, 'utf8');
  const keyOf = (uid: Buffer) => diversifyKey(keys.doorKeyMaster, uid, aid, system);

  async function authenticate(
    card: CardEvent & { transmit: NonNullable<CardEvent['transmit']> },
    uid: string,
  ): Promise<CardProof> {
    const session = await authenticateEV2First(card.transmit, keyOf(Buffer.from(uid, 'hex')), keys.keyNo);
    const proven = await getCardUid(card.transmit, session);
    return { check: proven === uid ? 'genuine' : 'not_genuine' };
  }

  async function sun(
    card: CardEvent & { transmit: NonNullable<CardEvent['transmit']> },
    uid: string,
  ): Promise<CardProof> {
    const message = await readSunMessage(card.transmit);
    if (!message) return { check: 'not_genuine' };
    const r = verifySun({ encPiccData: message.e, cmac: message.c, metaReadKey: keys.metaReadKey, fileReadKey: keyOf });
    if (!r.ok || r.uid !== uid) return { check: 'not_genuine' };
    return { check: 'genuine', sunCounter: r.counter };
  }

  return {
    async verify(card, uid) {
      // An ISO 14443-3 answer for a secure badge's UID: a clone on a plain tag.
      if (!card.transmit) return { check: 'not_genuine' };
      const withTransmit = { ...card, transmit: card.transmit };
      try {
        return cfg.check === 'sun' ? await sun(withTransmit, uid) : await authenticate(withTransmit, uid);
      } catch (err) {
        log.info({ err: (err as Error).message }, 'secure badge did not prove itself');
        return { check: 'not_genuine' };
      }
    },
  };
}
