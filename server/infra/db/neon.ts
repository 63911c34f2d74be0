import type pg from "pg";
import { Client as NeonClient, Pool as NeonPool } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import { WebSocket } from "ws";
import * as schema from "../../../shared/schema/index.ts";
import type { Database, DbPool } from "./types.ts";

/**
 * Neon's serverless driver: Postgres over a WebSocket, for Neon hosts (and any
 * host behind a WebSocket proxy). Its Pool is a port of pg's with the same
 * interface, so the rest of the code sees one pool type whatever the driver.
 */
export function createNeonPool(config: pg.PoolConfig, wsProxy: string | undefined): DbPool {
  // Socket settings live on each client, not in the module-global neonConfig:
  // NeonPool replaces the `Client` option with its own class, so a subclass applies them.
  class ConfiguredClient extends NeonClient {
    constructor(clientConfig?: ConstructorParameters<typeof NeonClient>[0]) {
      super(clientConfig);
      const socket = this.neonConfig;
      // Node 20 has no global WebSocket.
      socket.webSocketConstructor = WebSocket;
      if (wsProxy) {
        // A self-hosted proxy (Neon's wsproxy, or the test suite's) is plain ws://, and the
        // server behind it expects the ordinary handshake, not Neon's pipelined password.
        socket.wsProxy = wsProxy;
        socket.useSecureWebSocket = false;
        socket.pipelineConnect = false;
      }
    }
  }
  const pool = new NeonPool(config);
  pool.Client = ConfiguredClient;
  return pool as unknown as DbPool;
}

export function drizzleOverNeon(pool: DbPool): Database {
  return drizzle({ client: pool as unknown as NeonPool, schema }) as unknown as Database;
}
