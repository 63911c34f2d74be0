import net from "node:net";
import { Transform, type TransformCallback } from "node:stream";

/**
 * A TCP relay in front of a real service (Postgres, Redis) that a test can cut
 * and restore, to watch the product lose a dependency and get it back. The
 * shared services are never stopped: only this relay is.
 *
 * Three ways to cut, as networks fail:
 * - `refuse`: relayed connections are closed and nothing listens any more
 *   (the service stopped): new connections are refused at once;
 * - `reset`: relayed connections are reset (RST) and every new one is reset
 *   as soon as it is accepted (a firewall rejecting, a crashed peer);
 * - `drop`: nothing is relayed any more, in either direction, and nothing is
 *   closed: new connections are accepted and left hanging (a network
 *   partition, packets silently dropped). Only client-side deadlines end them.
 * `restore` relays again; connections held by a `drop` resume where they stood.
 * `slow(ms)` keeps relaying but holds every answer of the service that long (a
 * round trip to a far or overloaded server); `slow(0)` ends it.
 */
export type CutMode = "refuse" | "reset" | "drop";

export interface TcpProxy {
  port: number;
  cut(mode?: CutMode): Promise<void>;
  slow(delayMs: number): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  /** The service's answers pass through it on their way to the client. */
  answers: Delay;
}

/** Holds each chunk `delay()` ms, in order: a chunk never overtakes one held longer before a change of delay. */
class Delay extends Transform {
  #releaseAt = 0;

  constructor(private readonly delay: () => number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const delayMs = this.delay();
    if (delayMs === 0 && this.#releaseAt <= performance.now()) return callback(null, chunk);
    this.#releaseAt = Math.max(performance.now() + delayMs, this.#releaseAt);
    setTimeout(() => this.push(chunk), this.#releaseAt - performance.now());
    callback();
  }
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let state: "relaying" | CutMode = "relaying";
  let answerDelayMs = 0;

  const relay = (pair: Pair) => {
    const upstream = pair.upstream ?? net.connect(targetPort, targetHost);
    if (!pair.upstream) {
      pair.upstream = upstream;
      upstream.on("error", () => upstream.destroy());
      upstream.on("close", () => pair.client.destroy());
    }
    pair.client.pipe(upstream);
    upstream.pipe(pair.answers);
  };
  const stall = (pair: Pair) => {
    pair.client.unpipe();
    pair.upstream?.unpipe();
    pair.client.pause();
    pair.upstream?.pause();
  };
  const end = (pair: Pair, how: "close" | "reset") => {
    for (const socket of [pair.client, pair.upstream]) {
      if (!socket) continue;
      if (how === "reset") socket.resetAndDestroy();
      else socket.destroy();
    }
    pairs.delete(pair);
  };

  const server = net.createServer((client) => {
    if (state === "reset") {
      client.on("error", () => undefined);
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, answers: new Delay(() => answerDelayMs) };
    pair.answers.pipe(client);
    pairs.add(pair);
    client.on("error", () => client.destroy());
    client.on("close", () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    if (state === "relaying") relay(pair);
    else client.pause();
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const stopListening = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));

  await listen(0);
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    async cut(mode = "refuse") {
      state = mode;
      for (const pair of [...pairs]) {
        if (mode === "drop") stall(pair);
        else end(pair, mode === "reset" ? "reset" : "close");
      }
      if (mode === "refuse") await stopListening();
    },
    slow(delayMs) {
      answerDelayMs = delayMs;
    },
    async restore() {
      const was = state;
      state = "relaying";
      if (was === "refuse") await listen(port);
      if (was === "drop") {
        for (const pair of pairs) {
          relay(pair);
          pair.client.resume();
          pair.upstream?.resume();
        }
      }
    },
    async close() {
      state = "refuse";
      for (const pair of [...pairs]) end(pair, "close");
      await stopListening();
    },
  };
}
