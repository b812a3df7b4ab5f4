import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorOf, openHubSession, readPassword, type HubSession } from '../../shared/platform/hub-client.js';
import type { Command, Io } from '../../shared/platform/command.js';
import { EXIT } from '../../shared/platform/command.js';
import { systemClock } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { loadNative } from '../hardware/factory.js';
import { PcscReader } from '../hardware/pcsc-reader.js';
import type { CardEvent, Reader } from '../hardware/types.js';
import { Ntag424Error } from './apdu.js';
import { BADGE_KEY_DEFAULTS, hexOfBytes, masterKeyOf, MAX_SYSTEM_IDENTIFIER_BYTES, UsageError } from './cli.js';
import { DEFAULT_DOOR_KEY_NO } from './diversify.js';
import { personalise, PersonaliseError, resetCard, SELECT_STEP, type ResetOptions } from './personalise.js';

/**
 * `tessera badge enrol` and `tessera badge reset`, on an operator's machine with a USB PC/SC
 * reader (docs/badges.md, "Enrolling a badge"): one card at a time, each step printed as it
 * ends, one error naming the step that failed.
 */

export interface BadgeCliDeps {
  /** The readers, not started: PC/SC through pcscd as on the doors; simulated readers in tests. */
  openReader(): Promise<Reader>;
  /** Where TESSERA_PASSWORD is read. */
  env: NodeJS.ProcessEnv;
}

/** A failure already explained: its lines go to stderr, and the exit code is 1. */
class Failed extends Error {}

const DEFAULT_WAIT_SECONDS = 60;

const CARD_OPTIONS = {
  'master-key-file': { type: 'string' },
  'master-key': { type: 'string' },
  reader: { type: 'string' },
  wait: { type: 'string' },
  aid: { type: 'string' },
  'system-identifier': { type: 'string' },
} as const;

interface CardInputs {
  masterKey: Buffer;
  aid: Buffer;
  systemIdentifier: Buffer;
  reader: string | undefined;
  waitMs: number;
}

function cardInputs(values: Record<string, string | boolean | undefined>, io: Io): CardInputs {
  const text = (name: string) => (typeof values[name] === 'string' ? values[name] : undefined);
  const aid = hexOfBytes(text('aid') ?? BADGE_KEY_DEFAULTS.aid, 3, '--aid');
  const systemIdentifier = Buffer.from(text('system-identifier') ?? BADGE_KEY_DEFAULTS.systemIdentifier, 'utf8');
  if (systemIdentifier.length === 0 || systemIdentifier.length > MAX_SYSTEM_IDENTIFIER_BYTES)
    throw new UsageError(`--system-identifier must be 1 to ${MAX_SYSTEM_IDENTIFIER_BYTES} bytes of text`);
  const wait = Number(text('wait') ?? DEFAULT_WAIT_SECONDS);
  if (!Number.isFinite(wait) || wait <= 0 || wait > 3600)
    throw new UsageError(`--wait must be a number of seconds from above 0 to 3600, got "${text('wait')}"`);
  return {
    masterKey: masterKeyOf({ 'master-key-file': text('master-key-file'), 'master-key': text('master-key') }, io),
    aid,
    systemIdentifier,
    reader: text('reader'),
    waitMs: wait * 1000,
  };
}

/** What personalise and resetCard both take for the card `uid`: the site's key inputs, and each step told on `io`. */
function cardOptions(uid: string, inputs: CardInputs, io: Io): ResetOptions {
  return {
    uid,
    masterKey: inputs.masterKey,
    aid: inputs.aid,
    systemIdentifier: inputs.systemIdentifier,
    onStep: (step) => io.out(`  ${step}: done`),
  };
}

/** Reader names as the doors' `readers[].match` takes them: a substring, or `/regex/flags`. */
function readerMatcher(match: string | undefined): (name: string) => boolean {
  if (match === undefined) return () => true;
  const regex = /^\/(.+)\/([a-z]*)$/.exec(match);
  if (!regex) return (name) => name.includes(match);
  const re = new RegExp(regex[1]!, regex[2]);
  return (name) => re.test(name);
}

/**
 * Starts the readers and waits, at most `waitMs` in all, first for a reader (matching `--reader`),
 * then for a card on it; a card already on the reader counts. Says what it waits for.
 */
async function waitForCard(reader: Reader, inputs: CardInputs, io: Io): Promise<CardEvent> {
  const matches = readerMatcher(inputs.reader);
  const cards: CardEvent[] = [];
  let wake: () => void = () => undefined;
  const unsubscribe = reader.subscribe({
    card: (event) => {
      if (matches(event.reader)) cards.push(event);
      wake();
    },
    found: () => wake(),
  });
  const deadline = Date.now() + inputs.waitMs;
  const until = (done: () => boolean) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()));
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        wake = () => undefined;
        resolve(ok);
      };
      wake = () => {
        if (done()) finish(true);
      };
      wake();
    });
  const seconds = `${inputs.waitMs / 1000} s`;
  try {
    await reader.start();
    const attached = () => reader.attached().filter(matches);
    if (!(await until(() => attached().length > 0))) {
      const others = reader.attached();
      throw new Failed(
        inputs.reader !== undefined && others.length > 0
          ? `no reader matching ${JSON.stringify(inputs.reader)} within ${seconds}; the readers are: ${others.map((n) => JSON.stringify(n)).join(', ')}`
          : `no PC/SC reader within ${seconds}: is pcscd running (systemctl status pcscd) and the reader plugged in?`,
      );
    }
    io.out(`waiting for a card on ${attached().join(' or ')}… (at most ${seconds}; --wait SECONDS)`);
    if (!(await until(() => cards.length > 0)))
      throw new Failed(`no card on ${attached().join(' or ')} within ${seconds}: nothing was done`);
    return cards[0]!;
  } finally {
    unsubscribe();
  }
}

/** What to say about a step that failed, and what to do about it. */
function explainStep(err: PersonaliseError, what: 'personalise' | 'reset'): string[] {
  const cause = err.cause;
  const lines = [`failed at "${err.step}": ${cause instanceof Error ? cause.message : String(cause)}`];
  if (cause instanceof Ntag424Error && cause.code === 'transport')
    lines.push(
      'the card left the reader (or the reader went away): put it back on the reader and run the same command again; it picks up where it stopped',
    );
  else if (cause instanceof Ntag424Error && cause.code === 'auth_failed' && err.step !== SELECT_STEP)
    lines.push(
      'the card refuses our keys: check --master-key-file, --aid and --system-identifier against the site; a card of another site must be reset with its own master key',
    );
  if (what === 'personalise') lines.push('the badge was not registered at the hub');
  return lines;
}

async function withReader<T>(deps: BadgeCliDeps, work: (reader: Reader) => Promise<T>): Promise<T> {
  const reader = await deps.openReader();
  try {
    return await work(reader);
  } finally {
    await reader.stop();
  }
}

/** Runs a command body: usage errors exit 64, explained failures and hub errors exit 1. */
async function guarded(io: Io, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`tessera: ${err.message}\nusage: tessera ${usage}`);
      return EXIT.USAGE;
    }
    if (err instanceof Failed) {
      for (const line of err.message.split('\n')) io.err(`tessera: ${line}`);
      return EXIT.FAILURE;
    }
    if (err instanceof TesseraError) {
      io.err(`tessera: ${err.message} [${err.code}]`);
      return EXIT.FAILURE;
    }
    throw err;
  }
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<
      string,
      string | boolean | undefined
    >;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const ENROL_USAGE =
  'badge enrol --hub URL --user NAME --member ID --master-key-file FILE [--reader NAME] [--wait SECONDS] [--sun-url URL] [--key-no 2|3|4] [--aid HEX] [--system-identifier TEXT] [--json]   (password: TESSERA_PASSWORD, or asked)';

async function register(
  session: HubSession,
  uid: string,
  member: string,
  type: 'uid' | 'ntag424',
  io: Io,
): Promise<number> {
  const res = await session.fetch(`/directory/badges/${uid}/enrol`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ member, type }),
  });
  if (!res.ok) {
    const e = await errorOf(res);
    const lines = [
      `the hub refuses to register badge ${uid} to member ${JSON.stringify(member)}: ${e.message} [${e.code}]`,
    ];
    if (type === 'ntag424')
      lines.push(
        'the card stays personalised: run the same command with the right --member, or return the card to factory keys with `tessera badge reset`',
      );
    throw new Failed(lines.join('\n'));
  }
  const { revision } = (await res.json()) as { revision: number };
  io.out(
    type === 'ntag424'
      ? `registered NTAG 424 DNA badge ${uid} to member ${member} (directory revision ${revision})`
      : `registered UID-only badge ${uid} to member ${member}, flagged cloneable (directory revision ${revision})`,
  );
  return revision;
}

/**
 * With --json the steps go to stderr and stdout carries one object, the result: `say` is where
 * the steps go, `result` prints it.
 */
function jsonMode(io: Io, values: Record<string, unknown>): { say: Io; result: (r: object) => void } {
  if (values.json !== true) return { say: io, result: () => undefined };
  return { say: { out: io.err, err: io.err }, result: (r) => io.out(JSON.stringify(r)) };
}

/** `tessera badge enrol`, reading cards through `deps`. */
export function badgeEnrolCommandWith(deps: BadgeCliDeps): Command {
  return {
    name: 'badge enrol',
    summary:
      'personalise the NTAG 424 DNA badge on the reader for this site and register it to a member at the hub (a UID-only card: registered as cloneable)',
    usage: ENROL_USAGE,
    run: (args, io) =>
      guarded(io, ENROL_USAGE, async () => {
        const values = parse(args, {
          ...CARD_OPTIONS,
          hub: { type: 'string' },
          user: { type: 'string' },
          member: { type: 'string' },
          'sun-url': { type: 'string' },
          'key-no': { type: 'string' },
          json: { type: 'boolean' },
        });
        const { say, result } = jsonMode(io, values);
        const hub = values.hub as string | undefined;
        const user = values.user as string | undefined;
        const member = values.member as string | undefined;
        if (!hub || !user || !member) throw new UsageError('--hub, --user and --member are required');
        const keyNo = Number(values['key-no'] ?? DEFAULT_DOOR_KEY_NO);
        if (![2, 3, 4].includes(keyNo))
          throw new UsageError(`--key-no must be 2, 3 or 4 (the doors' door key), got "${String(values['key-no'])}"`);
        const sunUrl = (values['sun-url'] as string | undefined) ?? `${hub.replace(/\/+$/, '')}/`;
        if (!/^https?:\/\/\S+$/.test(sunUrl)) throw new UsageError(`--sun-url must be an http(s) URL, got "${sunUrl}"`);
        const inputs = cardInputs(values, say);

        // The hub first: a wrong password or member fails before any card is touched.
        const session = await openHubSession(hub, user, await readPassword(user, deps.env));
        try {
          const found = await session.fetch(`/directory/members/${encodeURIComponent(member)}`);
          if (found.status === 404)
            throw new Failed(
              `no member ${JSON.stringify(member)} at ${session.url} (or not one you may see): nothing was done`,
            );
          if (!found.ok) {
            const e = await errorOf(found);
            throw new Failed(`the hub refuses to show member ${JSON.stringify(member)}: ${e.message} [${e.code}]`);
          }
          say.out(`logged in to ${session.url} as ${user}; member ${member}`);
          return await withReader(deps, async (reader) => {
            const card = await waitForCard(reader, inputs, say);
            say.out(`card ${card.uid} on ${card.reader}`);
            const uidOnly = async (why: string) => {
              say.out(`${why}: registering it by its UID alone; anyone who reads the UID can copy such a badge`);
              const revision = await register(session, card.uid, member, 'uid', say);
              result({ uid: card.uid, reader: card.reader, member, type: 'uid', cloneable: true, revision });
              return EXIT.OK;
            };
            if (!card.transmit) return uidOnly('not an NTAG 424 DNA (the card speaks no APDUs)');
            if (card.uid.length !== 14) return uidOnly(`not an NTAG 424 DNA (a ${card.uid.length / 2}-byte UID)`);
            try {
              await personalise(card.transmit, {
                ...cardOptions(card.uid, inputs, say),
                url: sunUrl,
                doorKeyNo: keyNo,
              });
            } catch (err) {
              if (!(err instanceof PersonaliseError)) throw err;
              if (err.step === SELECT_STEP && err.cause instanceof Ntag424Error && err.cause.code === 'bad_response')
                return uidOnly(`not an NTAG 424 DNA (${err.cause.message.replace(/^not an NTAG 424 DNA: /, '')})`);
              throw new Failed(explainStep(err, 'personalise').join('\n'));
            }
            say.out(`card ${card.uid} is personalised and opens a door as this site's doors check it`);
            const revision = await register(session, card.uid, member, 'ntag424', say);
            result({ uid: card.uid, reader: card.reader, member, type: 'ntag424', cloneable: false, revision });
            return EXIT.OK;
          });
        } finally {
          await session.logout();
        }
      }),
  };
}

const RESET_USAGE =
  'badge reset --master-key-file FILE [--reader NAME] [--wait SECONDS] [--aid HEX] [--system-identifier TEXT] [--json]';

/** `tessera badge reset`, reading cards through `deps`. */
export function badgeResetCommandWith(deps: BadgeCliDeps): Command {
  return {
    name: 'badge reset',
    summary: 'return the NTAG 424 DNA badge on the reader, personalised with this master key, to its factory keys',
    usage: RESET_USAGE,
    run: (args, io) =>
      guarded(io, RESET_USAGE, async () => {
        const values = parse(args, { ...CARD_OPTIONS, json: { type: 'boolean' } });
        const { say, result } = jsonMode(io, values);
        const inputs = cardInputs(values, say);
        return withReader(deps, async (reader) => {
          const card = await waitForCard(reader, inputs, say);
          say.out(`card ${card.uid} on ${card.reader}`);
          if (!card.transmit || card.uid.length !== 14)
            throw new Failed(`card ${card.uid} is not an NTAG 424 DNA: there is nothing to reset`);
          try {
            await resetCard(card.transmit, cardOptions(card.uid, inputs, say));
          } catch (err) {
            if (!(err instanceof PersonaliseError)) throw err;
            throw new Failed(explainStep(err, 'reset').join('\n'));
          }
          result({ uid: card.uid, reader: card.reader, reset: true });
          say.out(
            `card ${card.uid} is back to factory keys (all zero); a door no longer accepts it as an NTAG 424 DNA badge`,
          );
          return EXIT.OK;
        });
      }),
  };
}

/** The PC/SC readers through pcscd and nfc-pcsc, as on the doors. */
const pcscReaders: BadgeCliDeps = {
  env: process.env,
  async openReader() {
    const loaded = await loadNative('nfc-pcsc');
    if (!loaded.ok)
      throw new Failed(
        `cannot use PC/SC readers: nfc-pcsc ${loaded.missing ? 'is not installed' : `failed to load (${loaded.detail})`}; apt-get install pcscd libpcsclite-dev; npm install`,
      );
    return new PcscReader({ clock: systemClock, retryMs: 200, importModule: () => Promise.resolve(loaded.module) });
  },
};

export const badgeEnrolCommand = badgeEnrolCommandWith(pcscReaders);
export const badgeResetCommand = badgeResetCommandWith(pcscReaders);
