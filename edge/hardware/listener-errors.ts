import type { Logger } from 'pino';
import type { ReaderListener } from './types.js';

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
    else
      process.emitWarning(
        `a ${context.source} listener threw on "${context.event}" (${context.target}): ${String(error)}`,
      );
  } catch {
    // Reporting is best effort: a failing reporter must not break the hardware path either.
  }
}

/**
 * The listeners of a Reader, as both readers keep them: the same listener subscribed twice gets
 * two subscriptions, delivery works on a snapshot (a listener may unsubscribe during it), and
 * a throwing listener is reported without stopping the others.
 */
export class ReaderListeners {
  private readonly entries = new Set<{ listener: ReaderListener }>();

  constructor(private readonly sink: ListenerErrorSink) {}

  subscribe(listener: ReaderListener): () => void {
    const entry = { listener };
    this.entries.add(entry);
    return () => {
      this.entries.delete(entry);
    };
  }

  emit(event: string, reader: string, call: (listener: ReaderListener) => void): void {
    for (const entry of [...this.entries]) {
      if (!this.entries.has(entry)) continue;
      try {
        call(entry.listener);
      } catch (error) {
        reportListenerError(this.sink, error, { source: 'reader', event, target: reader });
      }
    }
  }
}
