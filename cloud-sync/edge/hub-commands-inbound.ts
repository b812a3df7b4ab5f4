import type { Logger } from 'pino';
import type { CommandReceipt } from './options.js';
import type { OutboxStream } from './outbox-stream.js';
import type { SyncStore } from './site-store.js';

/**
 * A message on the site's commands topic: the edge checks it and carries it out (or refuses and
 * records it); a resend is the stream's to do, from the seq asked. Never throws: a command that
 * fails to be handled is logged, and the link goes on. Returns whether the stream was rewound.
 */
export function receiveCommand(
  payload: Buffer,
  deps: { commands: { receive(payload: Buffer): CommandReceipt }; stream: OutboxStream; store: SyncStore; log: Logger },
): boolean {
  try {
    const outcome = deps.commands.receive(payload);
    if (!outcome.accepted || outcome.command.kind !== 'resend') return false;
    const from = deps.stream.resendFrom(outcome.command.fromSeq);
    deps.log.info(
      { asked: outcome.command.fromSeq, from, ackedSeq: deps.store.events.ackedSeq() },
      'the hub asks for events again: re-sending',
    );
    return true;
  } catch (err) {
    deps.log.error({ err }, 'command handling failed');
    return false;
  }
}
