import { Writable } from 'node:stream';

/** Every line a logger wrote, kept in memory: what a journal or a log shipper would receive. */
export class LogCapture extends Writable {
  private readonly chunks: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString('utf8'));
    done();
  }
  lines(): string[] {
    return this.chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '');
  }
}

/** What must never reach a log (docs/security.md), and the spellings it could take there. */
export class Secrets {
  private readonly items: Array<{ what: string; text: string }> = [];
  add(what: string, text: string): void {
    if (text.length < 8) throw new Error(`${what} is too short to scan for`);
    this.items.push({ what, text });
  }
  /** A key in hex, upper and lower case, and in base64. */
  key(what: string, bytes: Buffer): void {
    for (const text of [bytes.toString('hex').toUpperCase(), bytes.toString('hex'), bytes.toString('base64')])
      this.add(what, text);
  }
  /** A badge UID in every spelling a reader, a person or the API may use: only `…A1A1` may be logged. */
  uid(what: string, uid: string): void {
    const pairs = uid.match(/../g) ?? [];
    for (const spelling of [uid, uid.toLowerCase(), pairs.join(':'), pairs.join(':').toLowerCase(), pairs.join(' ')])
      this.add(what, spelling);
  }
  /** Each secret found, with the line it is on. */
  leaks(lines: readonly string[]): string[] {
    const found: string[] = [];
    for (const line of lines)
      for (const s of this.items) if (line.includes(s.text)) found.push(`${s.what}: ${line.slice(0, 400)}`);
    return found;
  }
  get size(): number {
    return this.items.length;
  }
}
