import { Transform, type Readable } from 'node:stream';
import type { Io } from '../../../shared/platform/command.js';

/** Where an upload's progress goes: a redrawn bar on a terminal, a line per quarter otherwise; `done` once all is sent. */
export abstract class Progress {
  abstract update(sent: number, total: number): void;
  abstract done(): void;

  static for(stream: NodeJS.WriteStream, io: Io): Progress {
    return stream.isTTY ? new BarProgress(stream) : new LineProgress(io);
  }
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

class BarProgress extends Progress {
  private drawn = false;
  constructor(private readonly stream: NodeJS.WriteStream) {
    super();
  }
  update(sent: number, total: number): void {
    const width = 30;
    const ratio = total === 0 ? 1 : sent / total;
    const filled = Math.round(ratio * width);
    this.stream.write(
      `\rsending [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${mb(sent)} of ${mb(total)}`,
    );
    this.drawn = true;
  }
  done(): void {
    if (this.drawn) this.stream.write('\nthe hub is checking and applying the file\n');
    this.drawn = false;
  }
}

class LineProgress extends Progress {
  private lastQuarter = -1;
  constructor(private readonly io: Io) {
    super();
  }
  update(sent: number, total: number): void {
    const quarter = total === 0 ? 4 : Math.floor((sent / total) * 4);
    if (quarter === this.lastQuarter) return;
    this.lastQuarter = quarter;
    this.io.err(`sent ${quarter * 25}% (${sent} of ${total} bytes)`);
  }
  done(): void {
    this.io.err('the hub is checking and applying the file');
  }
}

/** Passes the file through, telling `progress` how many bytes have gone. */
export function uploadProgress(source: Readable, total: number, progress: Progress): Readable {
  let sent = 0;
  progress.update(0, total);
  return source.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, callback) {
        sent += chunk.length;
        progress.update(sent, total);
        callback(null, chunk);
      },
      flush(callback) {
        progress.done();
        callback();
      },
    }),
  );
}
