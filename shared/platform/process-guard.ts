import type { Logger } from 'pino';

export interface Guarded {
  stop(): Promise<void>;
  safeState(): void;
}

export interface GuardOptions {
  log: Logger;
  /** Longest a graceful stop may take before the process exits anyway. */
  timeoutMs?: number;
  onReload?: () => void;
  exit?: (code: number) => void;
}

/**
 * Owns the process's exit paths (docs/architecture.md, invariant 7): SIGINT and SIGTERM stop gracefully within
 * a bound, a second signal forces the exit, an uncaught error or unhandled rejection puts the
 * relays in their safe state before anything else, and `exit` does it once more whatever
 * happened. SIGHUP reloads.
 */
export function guardProcess(target: Guarded, opts: GuardOptions): () => void {
  const { log } = opts;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = opts.timeoutMs ?? 5000;
  let stopping = false;

  const stopThenExit = (code: number) => {
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown took too long: forcing exit');
      target.safeState();
      exit(code === 0 ? 1 : code);
    }, timeoutMs);
    timer.unref();
    target.stop().then(
      () => {
        clearTimeout(timer);
        exit(code);
      },
      (err: unknown) => {
        clearTimeout(timer);
        log.error({ err }, 'shutdown failed');
        target.safeState();
        exit(1);
      },
    );
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: relays to safe state and exit now');
      target.safeState();
      exit(130);
      return;
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    stopThenExit(0);
  };
  const onFatal = (err: unknown, kind: string) => {
    target.safeState();
    log.fatal({ err }, `${kind}: relays in their safe state, stopping`);
    if (stopping) return;
    stopping = true;
    stopThenExit(1);
  };
  const onUncaught = (err: Error) => onFatal(err, 'uncaught exception');
  const onRejection = (reason: unknown) => onFatal(reason, 'unhandled rejection');
  const onExit = () => target.safeState();
  const onHup = () => opts.onReload?.();

  const handlers: Array<[string, Parameters<typeof process.on>[1]]> = [
    ['SIGINT', onSignal],
    ['SIGTERM', onSignal],
    ['SIGHUP', onHup],
    ['uncaughtException', onUncaught],
    ['unhandledRejection', onRejection],
    ['exit', onExit],
  ];
  for (const [event, handler] of handlers) process.on(event, handler);
  return () => {
    for (const [event, handler] of handlers) process.off(event, handler);
  };
}
