import type { Logger } from 'pino';

/** Where a throwing listener was called from, for the report. */
export interface ListenerErrorContext {
  source: 'reader' | 'gpio';
  /** The event being delivered: `card`, `removed`, `lost`, `found`, `change`. */
  event: string;
  /** The reader name or the GPIO line. */
  target: string;
}

export type ListenerErrorHandler = (error: unknown, context: ListenerErrorContext) => void;

export interface ListenerErrorSink {
  onListenerError?: ListenerErrorHandler;
  log?: Logger;
}

/**
 * A listener's bug must not silence the other listeners nor the device, so the simulators catch
 * and report here. Without a handler or a logger it still surfaces, as a process warning.
 */
export function reportListenerError(sink: ListenerErrorSink, error: unknown, context: ListenerErrorContext): void {
  try {
    if (sink.onListenerError) sink.onListenerError(error, context);
    else if (sink.log) sink.log.error({ err: error, ...context }, 'a hardware listener threw');
    else process.emitWarning(`a ${context.source} listener threw on "${context.event}" (${context.target}): ${String(error)}`);
  } catch {
    // Reporting is best effort: a failing reporter must not break the hardware path either.
  }
}
