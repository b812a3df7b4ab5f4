import type { SiteConfig } from '../../firmware-config/schema.js';

export type ReaderBinding = SiteConfig['readers'][number];

/**
 * Which configured reader a PC/SC reader name is. A simulated reader is named by its id; a real
 * one matches the config's `match`: a substring of the PC/SC name, or a `/regex/`.
 */
export function bindReaders(readers: readonly ReaderBinding[]): (pcscName: string) => ReaderBinding | undefined {
  const matchers = readers.map((r) => {
    const regex = /^\/(.+)\/([a-z]*)$/.exec(r.match);
    const test = regex
      ? (name: string) => new RegExp(regex[1] ?? '', regex[2]).test(name)
      : (name: string) => name.includes(r.match);
    return { reader: r, test };
  });
  return (name) => readers.find((r) => r.id === name) ?? matchers.find((m) => m.test(name))?.reader;
}
