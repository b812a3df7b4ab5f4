import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A site's network link to the broker that the demo can cut: a TCP relay on a loopback port.
 * Cut, it drops every connection and refuses new ones, as a dead internet line would; the site
 * keeps deciding its doors alone and queues its events, and catches up once restored.
 */
export class BrokerLink {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private cut = false;

  constructor(private readonly brokerPort: number) {}

  /** Listens on a free loopback port; answers the URL the site connects to. */
  async start(): Promise<string> {
    const server = createServer((inbound) => this.relay(inbound));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the link relay has no port');
    return `mqtt://127.0.0.1:${address.port}`;
  }

  get isCut(): boolean {
    return this.cut;
  }

  setCut(cut: boolean): void {
    this.cut = cut;
    if (cut) for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.setCut(true);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private relay(inbound: Socket): void {
    if (this.cut) {
      inbound.destroy();
      return;
    }
    const outbound = connect(this.brokerPort, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      this.sockets.add(s);
      // A reset on either side ends both: the site sees its connection drop and reconnects.
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  }
}
