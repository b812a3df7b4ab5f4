import { parseArgs } from 'node:util';
import type { Command, Io } from '../../shared/platform/command.js';
import { EXIT } from '../../shared/platform/command.js';
import { cardKeys, DEFAULT_DOOR_KEY_NO, KEY_ROLES } from './diversify.js';
import { doorKeysFrom, formatDoorKeyFile } from './door-keys.js';
import { parseKeyHex, readMasterKeyFile } from './master-key.js';

const USAGE = 'badge keys --master-key-file FILE --uid HEX [--aid HEX] [--system-identifier TEXT] [--json]';

/** The defaults of secureBadges.aid and .systemIdentifier (firmware-config/schema.ts): cards and doors must agree. */
export const BADGE_KEY_DEFAULTS = { aid: '3042F5', systemIdentifier: 'Tessera' } as const;

/** AN10922 takes at most 31 bytes of UID ‖ AID ‖ system identifier: 7 + 3 leave 21. */
export const MAX_SYSTEM_IDENTIFIER_BYTES = 21;

const OPTIONS = {
  'master-key-file': { type: 'string' },
  'master-key': { type: 'string' },
  uid: { type: 'string' },
  aid: { type: 'string' },
  'system-identifier': { type: 'string' },
  json: { type: 'boolean' },
} as const;

interface KeyInputs {
  masterKey: Buffer;
  uid: Buffer;
  aid: Buffer;
  systemIdentifier: Buffer;
}

/** A command line at fault: the message, then the usage, and exit 64. */
export class UsageError extends Error {}

export function hexOfBytes(text: string, bytes: number, what: string): Buffer {
  const hex = text.replace(/[\s:-]/g, '');
  if (!new RegExp(`^[0-9A-Fa-f]{${2 * bytes}}$`).test(hex))
    throw new UsageError(`${what} must be ${bytes} bytes in hex (${2 * bytes} digits), got "${text}"`);
  return Buffer.from(hex, 'hex');
}

export function masterKeyOf(
  values: { 'master-key-file'?: string | undefined; 'master-key'?: string | undefined },
  io: Io,
): Buffer {
  const file = values['master-key-file'];
  const inline = values['master-key'];
  if ((file === undefined) === (inline === undefined))
    throw new UsageError('give the master key with exactly one of --master-key-file FILE or --master-key HEX');
  if (inline !== undefined) {
    io.err(
      'tessera: warning: --master-key leaves the master key in your shell history and process list; prefer --master-key-file',
    );
    const key = parseKeyHex(inline);
    if (!key) throw new UsageError('--master-key must be 16 bytes in hex (32 digits)');
    return key;
  }
  const read = readMasterKeyFile(file!);
  if (!read.ok) throw new UsageError(read.message);
  if (read.warning) io.err(`tessera: warning: ${read.warning}`);
  return read.key;
}

function parseInputs(args: string[], io: Io): KeyInputs {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.uid === undefined) throw new UsageError('--uid HEX is required: the 7-byte UID of the card');
  const uid = hexOfBytes(values.uid, 7, '--uid (an NTAG 424 DNA UID)');
  const aid = hexOfBytes(values.aid ?? BADGE_KEY_DEFAULTS.aid, 3, '--aid');
  const systemIdentifier = Buffer.from(values['system-identifier'] ?? BADGE_KEY_DEFAULTS.systemIdentifier, 'utf8');
  if (systemIdentifier.length === 0 || systemIdentifier.length > MAX_SYSTEM_IDENTIFIER_BYTES) {
    throw new UsageError(`--system-identifier must be 1 to ${MAX_SYSTEM_IDENTIFIER_BYTES} bytes of text`);
  }
  return { masterKey: masterKeyOf(values, io), uid, aid, systemIdentifier };
}

export const badgeKeysCommand: Command = {
  name: 'badge keys',
  summary: 'print the five AES keys of one NTAG 424 DNA badge, diversified from the master key (AN10922)',
  usage: USAGE,
  async run(args, io) {
    let inputs: KeyInputs;
    try {
      inputs = parseInputs(args, io);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      io.err(`tessera: ${err.message}\nusage: tessera ${USAGE}`);
      return EXIT.USAGE;
    }
    const keys = cardKeys(inputs.masterKey, inputs.uid, inputs.aid, inputs.systemIdentifier);
    if (args.includes('--json')) {
      const listed = keys.map(({ keyNo, key }) => ({
        keyNo,
        key: key.toString('hex').toUpperCase(),
        for: KEY_ROLES[keyNo],
      }));
      io.out(JSON.stringify({ uid: inputs.uid.toString('hex').toUpperCase(), keys: listed }));
      return EXIT.OK;
    }
    for (const { keyNo, key } of keys) io.out(`key ${keyNo}: ${key.toString('hex').toUpperCase()}`);
    io.out(`what each is for: ${KEY_ROLES.map((role, keyNo) => `${keyNo} = ${role}`).join('; ')}`);
    return EXIT.OK;
  },
};

const DOOR_USAGE = 'badge door-keys --master-key-file FILE [--key-no 2|3|4] > door.keys';

export const badgeDoorKeysCommand: Command = {
  name: 'badge door-keys',
  summary:
    'print the key file a door needs (secureBadges.doorKeyFile): never the site master key itself. No --json: the key file is the result.',
  usage: DOOR_USAGE,
  async run(args, io) {
    try {
      const { values } = parseArgs({
        args,
        options: {
          'master-key-file': { type: 'string' },
          'master-key': { type: 'string' },
          'key-no': { type: 'string' },
        },
        strict: true,
        allowPositionals: false,
      });
      const keyNo = Number(values['key-no'] ?? DEFAULT_DOOR_KEY_NO);
      if (![2, 3, 4].includes(keyNo)) throw new UsageError(`--key-no must be 2, 3 or 4, got "${values['key-no']}"`);
      io.out(formatDoorKeyFile(doorKeysFrom(masterKeyOf(values, io), keyNo)).trimEnd());
      return EXIT.OK;
    } catch (err) {
      if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err;
      io.err(`tessera: ${err.message}\nusage: tessera ${DOOR_USAGE}`);
      return EXIT.USAGE;
    }
  },
};
