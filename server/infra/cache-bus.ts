import type { Redis } from "ioredis";
import type { BusDriver, CreateBusDriverResult } from "bentocache/types";

/**
 * The transports of the cache's invalidation bus. bentocache (through
 * @boringnode/bus) decides what to send and applies what arrives; these only
 * carry its messages: over Redis pub/sub between instances, or between the
 * processes of one machine through their primary in local mode.
 */

type Handler = (message: never) => void;

/** What travels: bentocache's message, and the bus that sent it (which ignores its own). */
interface Envelope {
  busId: string;
  channel: string;
  message: unknown;
}

const isEnvelope = (value: unknown): value is Envelope =>
  typeof value === "object" && value !== null && "busId" in value && "channel" in value && "message" in value;

/** Delivery to the handler of the envelope's channel, unless this bus sent it. */
abstract class EnvelopeTransport implements BusDriver {
  protected id = "";
  protected readonly handlers = new Map<string, Handler>();

  setId(id: string): BusDriver {
    this.id = id;
    return this;
  }

  protected deliver(value: unknown): void {
    if (!isEnvelope(value) || value.busId === this.id) return;
    this.handlers.get(value.channel)?.(value.message as never);
  }

  protected envelope(channel: string, message: unknown): Envelope {
    return { busId: this.id, channel, message };
  }

  abstract onReconnect(callback: () => void): void;
  abstract publish(channel: string, message: unknown): Promise<void>;
  abstract subscribe(channel: string, handler: Handler): Promise<void>;
  abstract unsubscribe(channel: string): Promise<void>;
  abstract disconnect(): Promise<void>;
}

/**
 * Redis pub/sub over the product's own clients (server/infra/redis.ts: errors logged, reconnection forever). The
 * subscriber subscribes again each time it is ready, so that a Redis away at start, or restarted empty, still carries
 * the invalidations once back; meanwhile bentocache keeps what it could not publish and retries.
 */
class RedisPubSubTransport extends EnvelopeTransport {
  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    /** Put before bentocache's channel names: deployments (and test runs) sharing a Redis hear only their own. */
    private readonly prefix: string,
  ) {
    super();
    subscriber.on("message", (_channel: string, text: string) => this.deliver(parse(text)));
    subscriber.on("ready", () => void this.#subscribeAll());
  }

  onReconnect(callback: () => void): void {
    this.subscriber.on("ready", callback);
  }

  async publish(channel: string, message: unknown): Promise<void> {
    await this.publisher.publish(this.prefix + channel, JSON.stringify(this.envelope(channel, message)));
  }

  /** Never rejects: bentocache does not wait for it; a subscription that fails now is made on the next `ready`. */
  async subscribe(channel: string, handler: Handler): Promise<void> {
    this.handlers.set(channel, handler);
    await this.#subscribeAll();
  }

  async unsubscribe(channel: string): Promise<void> {
    this.handlers.delete(channel);
    await this.subscriber.unsubscribe(this.prefix + channel).catch(() => undefined);
  }

  async disconnect(): Promise<void> {
    this.handlers.clear();
    await this.subscriber.quit().catch(() => undefined);
  }

  async #subscribeAll(): Promise<void> {
    if (this.handlers.size > 0 && this.subscriber.status === "ready") {
      await this.subscriber.subscribe(...[...this.handlers.keys()].map((channel) => this.prefix + channel)).catch(() => undefined);
    }
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The other processes of this machine (server/entry/peers.ts). */
export interface Peers {
  broadcast(payload: unknown): Promise<void>;
  /** Returns what stops listening. */
  onBroadcast(listener: (payload: unknown) => void): () => void;
}

/** Local mode: to this machine's other processes, through the primary. */
class PeersTransport extends EnvelopeTransport {
  #stopListening: (() => void) | undefined;

  constructor(private readonly peers: Peers) {
    super();
  }

  /** The IPC channel does not reconnect: a child cut from its primary stops (child-process.ts). */
  onReconnect(): void {}

  publish(channel: string, message: unknown): Promise<void> {
    return this.peers.broadcast(this.envelope(channel, message));
  }

  async subscribe(channel: string, handler: Handler): Promise<void> {
    this.#stopListening ??= this.peers.onBroadcast((payload) => this.deliver(payload));
    this.handlers.set(channel, handler);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.handlers.delete(channel);
  }

  async disconnect(): Promise<void> {
    this.handlers.clear();
    this.#stopListening?.();
  }
}

/** `publisher` may be the process's client; `subscriber` is a connection of its own (a subscribed one sends nothing else). */
export function redisPubSubBusDriver(publisher: Redis, subscriber: Redis, prefix: string): CreateBusDriverResult {
  return { options: {}, factory: () => new RedisPubSubTransport(publisher, subscriber, prefix) };
}

export function peersBusDriver(peers: Peers): CreateBusDriverResult {
  return { options: {}, factory: () => new PeersTransport(peers) };
}
