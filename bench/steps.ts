import { randomUUID } from "node:crypto";
import { communities, events, memberships, tickets, users } from "../shared/schema/index.ts";
import { loadConfig } from "../server/config/env.ts";
import { buildContainer } from "../server/container.ts";
import { prepareDatabase } from "../server/infra/db/migrate.ts";
import { createLogger } from "../server/infra/logger.ts";
import { AccountsRepository } from "../server/modules/accounts/accounts.repo.ts";
import { CommunitiesRepository } from "../server/modules/communities/communities.repo.ts";
import { CommunityCache } from "../server/modules/communities/community-cache.ts";
import { EventsRepository } from "../server/modules/events/events.repo.ts";
import { CheckinsRepository } from "../server/modules/checkins/checkins.repo.ts";
import { ownDatabase } from "../server/test/services.ts";

/**
 * `npm run bench:steps`: where the time of the members page and of a door check-in goes, step by step, each step timed
 * over RUNS runs in a container (real pool, real Redis, the real cache) on a database of its own, at the
 * local Postgres and Redis. Prints the mean and the p50 / p99 of each step, in microseconds.
 */

const RUNS = 1_000;
const POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";
const SECRET = "steps-secret-that-is-long-enough-0123456789";

async function time(label: string, step: () => Promise<unknown>): Promise<void> {
  for (let run = 0; run < 50; run += 1) await step();
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    await step();
    samples.push((performance.now() - started) * 1_000);
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((sum, sample) => sum + sample, 0) / RUNS;
  const at = (share: number) => Math.round(samples[Math.floor(share * (RUNS - 1))]!);
  console.log(`${label.padEnd(62)}${String(Math.round(mean)).padStart(8)}${String(at(0.5)).padStart(8)}${String(at(0.99)).padStart(8)}`);
}

async function main(): Promise<void> {
  const database = await ownDatabase(POSTGRES, "community_steps");
  try {
    await prepareDatabase(database.url);
    const config = loadConfig({
      NODE_ENV: "test",
      DATABASE_URL: database.url,
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_KEY_PREFIX: `steps-${randomUUID()}:`,
      SESSION_SECRET: SECRET,
      TICKET_SIGNING_KEY: SECRET,
    });
    // The background worker's container: the same pool and cache, without the breaker, whose first check a busy machine may fail.
    const container = await buildContainer(config, "worker", createLogger({ level: "silent", role: "worker" }));
    const { db, redis, cache, ticketCodes } = container;
    const [user] = await db.insert(users).values({ email: "steps@example.test", name: "Stan Staff", passwordHash: "x" }).returning();
    const slug = `steps-${Date.now()}`;
    const [community] = await db.insert(communities).values({ slug, name: "Steps", memberCount: 1 }).returning();
    await db.insert(memberships).values({ communityId: community!.id, userId: user!.id, role: "staff", memberName: "Stan Staff" });
    const [event] = await db.insert(events).values({ communityId: community!.id, title: "Door", startsAt: new Date() }).returning();
    const [ticket] = await db.insert(tickets).values({ eventId: event!.id, userId: user!.id }).returning();
    const code = ticketCodes.sign({ ticketId: ticket!.id, eventId: event!.id });

    const accounts = new AccountsRepository();
    const communitiesRepo = new CommunitiesRepository();
    const cached = new CommunityCache(db, communitiesRepo, cache);
    const eventsRepo = new EventsRepository();
    const checkins = new CheckinsRepository();
    const sessionKey = `${config.redisKeyPrefix}sess:steps`;
    await redis!.set(sessionKey, JSON.stringify({ cookie: {}, userId: user!.id, sessionVersion: 0 }));

    console.log(`${RUNS} runs per step, microseconds${"".padEnd(30)}    mean     p50     p99`);
    console.log("members page");
    await time("  session: one Redis GET", () => redis!.get(sessionKey));
    await time("  signed-in user: the query (before)", () => accounts.findSessionUser(db, user!.id));
    await time("  signed-in user: from the cache (after)", () =>
      cache.get("sessionUser", user!.id, () => accounts.findSessionUser(db, user!.id)),
    );
    await time("  role: community with role, one query (before)", () => communitiesRepo.findWithRole(db, { slug }, user!.id));
    await time("  role: profile and role from the cache (after)", async () => cached.role((await cached.profile(slug))!.id, user!.id));
    await time("  the page: one query (50 rows at most)", () =>
      communitiesRepo.membersPage(db, { communityId: community!.id, limit: 50, adminView: false }),
    );
    console.log("door check-in");
    await time("  authorization: event with role, one query", () => eventsRepo.findForMember(db, event!.id, user!.id));
    await time("  code signature (HMAC, no I/O)", async () => ticketCodes.verify(code));
    await time("  ticket with holder's name, one query", () => checkins.findTicket(db, ticket!.id, event!.id));
    await time("  check-in or the first one's time, one statement", () => checkins.checkIn(db, ticket!.id, event!.id, user!.id));
    await container.close();
  } finally {
    await database.drop();
  }
}

await main();
