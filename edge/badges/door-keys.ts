import { DEFAULT_DOOR_KEY_NO, keyNumberMaster, sdmMetaReadKey, SDM_META_READ_KEY_NO } from './diversify.js';
import { parseKeyHex, readSecretFile } from './master-key.js';

/**
 * What a door holds (the card's master key never sits on a Pi: docs/badges.md): the site-wide SUN
 * meta read key and the master of the door key number, from which each card's door key is
 * diversified. From these nothing leads back to key 0 of any card, nor to the site master.
 */
export interface DoorKeys {
  keyNo: number;
  metaReadKey: Buffer;
  doorKeyMaster: Buffer;
}

export function doorKeysFrom(siteMaster: Buffer, keyNo: number = DEFAULT_DOOR_KEY_NO): DoorKeys {
  if (keyNo === 0 || keyNo === SDM_META_READ_KEY_NO)
    throw new RangeError(`the door key number must be 2, 3 or 4, got ${keyNo}`);
  return { keyNo, metaReadKey: sdmMetaReadKey(siteMaster), doorKeyMaster: keyNumberMaster(siteMaster, keyNo) };
}

export function formatDoorKeyFile(keys: DoorKeys): string {
  return [
    '# Tessera door keys (tessera badge door-keys): chmod 600, owned by the edge service.',
    '# They open this network’s NTAG 424 badges at a door; they cannot personalise or change a card.',
    `key-no: ${keys.keyNo}`,
    `meta-read-key: ${keys.metaReadKey.toString('hex').toUpperCase()}`,
    `door-key-master: ${keys.doorKeyMaster.toString('hex').toUpperCase()}`,
    '',
  ].join('\n');
}

export type DoorKeyFile = { ok: true; keys: DoorKeys; warning?: string } | { ok: false; message: string };

/** Reads secureBadges.doorKeyFile. A bare key (the site master?) is refused: it must not be on a door. */
export function readDoorKeyFile(path: string): DoorKeyFile {
  const file = readSecretFile(path, 'door key file');
  if (!file.ok) return file;
  if (parseKeyHex(file.text))
    return {
      ok: false,
      message: `${path} holds a bare key: if it is the site master key it must not be on a door; make a door key file with "tessera badge door-keys"`,
    };
  const fields = new Map(
    file.text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()] as const),
  );
  const keyNo = Number(fields.get('key-no'));
  const metaReadKey = parseKeyHex(fields.get('meta-read-key') ?? '');
  const doorKeyMaster = parseKeyHex(fields.get('door-key-master') ?? '');
  if (![2, 3, 4].includes(keyNo) || !metaReadKey || !doorKeyMaster) {
    return {
      ok: false,
      message: `${path}: expected "key-no: 2-4", "meta-read-key: <32 hex>" and "door-key-master: <32 hex>" (tessera badge door-keys writes it)`,
    };
  }
  const keys = { keyNo, metaReadKey, doorKeyMaster };
  return file.warning ? { ok: true, keys, warning: file.warning } : { ok: true, keys };
}
