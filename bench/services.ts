// Where the benchmarked product keeps its data: DATABASE_URL / REDIS_URL when
// set, else the local services when they answer (a database of this run's own,
// named uniquely and dropped at the end, so figures do not drift with leftover
// rows and two benches on one server never touch each other's data), else the
// product's own defaults (embedded Postgres, local mode).
import { answers, ownDatabase } from "../server/test/services.ts";

export interface BenchServices {
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Drops what the run created (its own database); nothing when the services were given. */
  release(): Promise<void>;
}

const LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";

export async function resolveBenchServices(): Promise<BenchServices> {
  const given = process.env.DATABASE_URL || undefined;
  const own = !given && (await answers("127.0.0.1", 5432)) ? await ownDatabase(LOCAL_POSTGRES, "community_bench") : undefined;
  const redisUrl = process.env.REDIS_URL || ((await answers("127.0.0.1", 6379)) ? "redis://127.0.0.1:6379" : undefined);
  return { databaseUrl: given ?? own?.url, redisUrl, release: async () => own?.drop() };
}
