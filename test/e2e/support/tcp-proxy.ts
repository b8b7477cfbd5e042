import { createServer, connect, type Server, type Socket } from "node:net";
import { freePort } from "../../../scripts/devnet/chain.ts";

/**
 * A TCP proxy on 127.0.0.1 in front of a local server, that a test can cut (refusing and dropping
 * every connection, as a dead RPC endpoint does) and restore on the same port.
 */
export class TcpProxy {
  readonly port: number;
  private readonly targetPort: number;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(port: number, targetPort: number) {
    this.port = port;
    this.targetPort = targetPort;
  }

  /** Starts a proxy on a free port forwarding to `targetPort`. */
  static async start(targetPort: number): Promise<TcpProxy> {
    // The proxy re-listens on its port after each cut: a port outside the ephemeral range, so an
    // outgoing connection cannot take it in the meantime.
    const port = await freePort();
    const proxy = new TcpProxy(port, targetPort);
    await proxy.restore();
    return proxy;
  }

  /** The proxy's URL for an HTTP JSON-RPC endpoint. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stops listening and drops every open connection: the endpoint is down. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** Listens again on the same port. */
  async restore(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, "127.0.0.1");
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
  }

  /** Stops the proxy for good. */
  async stop(): Promise<void> {
    await this.cut();
  }
}
