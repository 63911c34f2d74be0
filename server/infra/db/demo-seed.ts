import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { drizzle } from "drizzle-orm/node-postgres";
import { eq } from "drizzle-orm";
import pg from "pg";
import { hash } from "@node-rs/argon2";
import type { Logger } from "pino";
import { communities, events, memberships, tickets, users } from "../../../shared/schema/index.ts";

/**
 * A demo for the embedded default (`npm start` on a fresh machine): a community
 * with an admin, a few members, news-free but with an upcoming event whose
 * tickets are taken. Seeded once (the demo community's slug marks it); the
 * admin's generated password is kept in `.data/` and printed at every start.
 */
const DEMO_SLUG = "demo-club";
const ADMIN_EMAIL = "admin@demo.local";
const MEMBERS = ["Alice Martin", "Bruno Petit", "Chloé Durand"];

export interface DemoLogin {
  email: string;
  password: string;
}

export async function seedDemoOnce(url: string, dataDir: string, logger: Logger): Promise<DemoLogin> {
  const loginFile = path.join(dataDir, "demo-login.json");
  const pool = new pg.Pool({ connectionString: url, max: 1, application_name: "demo-seed" });
  try {
    const db = drizzle({ client: pool });
    const [existing] = await db.select({ id: communities.id }).from(communities).where(eq(communities.slug, DEMO_SLUG));
    if (existing) {
      const saved = await fs.readFile(loginFile, "utf8").catch(() => undefined);
      if (saved) return JSON.parse(saved) as DemoLogin;
    }
    const login = { email: ADMIN_EMAIL, password: randomBytes(9).toString("base64url") };
    if (!existing) await insertDemo(db, login);
    else
      await db
        .update(users)
        .set({ passwordHash: await hash(login.password) })
        .where(eq(users.email, ADMIN_EMAIL));
    await fs.writeFile(loginFile, `${JSON.stringify(login)}\n`, { mode: 0o600 });
    logger.info({ community: DEMO_SLUG }, "demo data seeded");
    return login;
  } finally {
    await pool.end();
  }
}

async function insertDemo(db: ReturnType<typeof drizzle>, login: DemoLogin): Promise<void> {
  await db.transaction(async (tx) => {
    const people = [
      { email: login.email, name: "Demo Admin", passwordHash: await hash(login.password) },
      ...(await Promise.all(
        MEMBERS.map(async (name, index) => ({
          email: `member${index + 1}@demo.local`,
          name,
          passwordHash: await hash(randomBytes(18).toString("base64url")),
        })),
      )),
    ];
    const created = await tx.insert(users).values(people).returning({ id: users.id, name: users.name });
    const [community] = await tx
      .insert(communities)
      .values({
        slug: DEMO_SLUG,
        name: "Demo Club",
        description: "A club to try the product with.",
        joinPolicy: "open",
        memberCount: created.length,
      })
      .returning();
    if (!community) throw new Error("demo community not created");
    await tx.insert(memberships).values(
      created.map((user, index) => ({
        communityId: community.id,
        userId: user.id,
        memberName: user.name,
        role: index === 0 ? ("owner" as const) : ("member" as const),
      })),
    );
    const [event] = await tx
      .insert(events)
      .values({
        communityId: community.id,
        title: "Season opening party",
        startsAt: new Date(Date.now() + 7 * 86_400_000),
        location: "Club house",
        capacity: 50,
        ticketsIssued: MEMBERS.length,
      })
      .returning();
    if (!event) throw new Error("demo event not created");
    await tx.insert(tickets).values(created.slice(1).map((user) => ({ eventId: event.id, userId: user.id })));
  });
}
