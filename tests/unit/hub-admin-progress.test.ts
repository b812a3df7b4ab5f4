import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { Progress, uploadProgress } from '../../cloud-sync/hub/admin/upload-progress.js';

const chunks = (n: number, size: number) => Readable.from(Array.from({ length: n }, () => Buffer.alloc(size, 'x')));

describe('the import command’s upload progress', () => {
  it('on a terminal: one bar redrawn in place up to 100%, then a line saying the hub is at work', async () => {
    const written: string[] = [];
    const terminal = { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const out = await text(
      uploadProgress(chunks(4, 250), 1000, Progress.for(terminal, { out: () => undefined, err: () => undefined })),
    );
    expect(out).toHaveLength(1000);
    expect(written[0]).toMatch(/^\rsending \[\.{30}\] 0% 0\.0 MB of 0\.0 MB$/);
    expect(written.at(-2)).toMatch(/^\rsending \[#{30}\] 100% /);
    expect(written.at(-1)).toBe('\nthe hub is checking and applying the file\n');
  });

  it('elsewhere: a plain line per quarter, not one per chunk', async () => {
    const lines: string[] = [];
    const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;
    await text(
      uploadProgress(chunks(100, 10), 1000, Progress.for(pipe, { out: () => undefined, err: (l) => lines.push(l) })),
    );
    expect(lines).toEqual([
      'sent 0% (0 of 1000 bytes)',
      'sent 25% (250 of 1000 bytes)',
      'sent 50% (500 of 1000 bytes)',
      'sent 75% (750 of 1000 bytes)',
      'sent 100% (1000 of 1000 bytes)',
      'the hub is checking and applying the file',
    ]);
  });
});
