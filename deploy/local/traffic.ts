import { randomUUID } from "node:crypto";
import http from "node:http";
import { query } from "../../server/test/services.ts";

/**
 * Steady traffic through the deployment while something happens to it (an instance rolled, a dependency cut): several
 * clients, each sending one request after another, as members and admins do: public reads (cached), signed-in reads,
 * and writes, on keep-alive connections and on a new connection per request. Every answer is kept, to say afterwards
 * what each client saw, and every write acknowledged is looked for in the database.
 */

export interface Answer {
  client: string;
  method: string;
  /** performance.now() when the request was sent and when its answer (or failure) was complete. */
  startedAt: number;
  endedAt: number;
  /** Undefined when no HTTP answer came (connection refused or reset, timeout). */
  status: number | undefined;
  retryAfter: string | undefined;
  failure: string | undefined;
  /** The id of what a write created, when it answered 201. */
  createdId: string | undefined;
}

interface Request {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  cookie?: string | undefined;
}

/**
 * Who the traffic acts as: a member who owns a community. Told that the session is gone (401, after Redis lost every
 * session), the member signs in again, as the web app sends them to do; requests meanwhile go without the old cookie.
 */
export class Cast {
  #signingIn: Promise<void> | undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly email: string,
    public cookie: string | undefined,
    readonly slug: string,
  ) {}

  signedOut(): void {
    if (this.#signingIn) return;
    this.cookie = undefined;
    this.#signingIn = this.#signIn().finally(() => (this.#signingIn = undefined));
  }

  async #signIn(): Promise<void> {
    while (!this.cookie) {
      const response = await fetch(`${this.baseUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: this.email, password: PASSWORD }),
      }).catch(() => undefined);
      const cookie = response?.status === 200 ? response.headers.get("set-cookie")?.split(";")[0] : undefined;
      if (cookie) this.cookie = cookie;
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

const PASSWORD = "correct horse battery";

const REQUEST_TIMEOUT_MS = 40_000;

function send(baseUrl: string, request: Request, agent: http.Agent | false, client: string): Promise<Answer> {
  const startedAt = performance.now();
  const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
  const headers: http.OutgoingHttpHeaders = {
    ...(agent === false ? { connection: "close" } : {}),
    ...(payload ? { "content-type": "application/json" } : {}),
    ...(request.cookie ? { cookie: request.cookie } : {}),
  };
  const answer = (fields: Pick<Answer, "status" | "retryAfter" | "failure" | "createdId">): Answer => ({
    client,
    method: request.method,
    startedAt,
    endedAt: performance.now(),
    ...fields,
  });
  return new Promise((resolve) => {
    const outgoing = http.request(`${baseUrl}${request.path}`, { method: request.method, agent, headers }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("error", (error) =>
        resolve(answer({ status: undefined, retryAfter: undefined, failure: error.message, createdId: undefined })),
      );
      response.on("end", () => {
        const status = response.statusCode ?? 0;
        const retryAfter = response.headers["retry-after"];
        resolve(answer({ status, retryAfter, failure: undefined, createdId: status === 201 ? createdIdOf(text) : undefined }));
      });
    });
    outgoing.setTimeout(REQUEST_TIMEOUT_MS, () => outgoing.destroy(new Error("no answer in time")));
    outgoing.on("error", (error: NodeJS.ErrnoException) =>
      resolve(answer({ status: undefined, retryAfter: undefined, failure: error.code ?? error.message, createdId: undefined })),
    );
    outgoing.end(payload);
  });
}

function createdIdOf(text: string): string | undefined {
  const body = JSON.parse(text) as Record<string, { id?: unknown } | undefined>;
  const id = Object.values(body)[0]?.id;
  return typeof id === "string" ? id : undefined;
}

/** One client: the same kind of request again and again, a short pause between an answer and the next request. */
class Client {
  readonly answers: Answer[] = [];
  #stopped = false;
  #running: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly baseUrl: string,
    private readonly next: () => Request,
    private readonly agent: http.Agent | false,
    private readonly pauseMs: number,
    private readonly onSignedOut: () => void,
  ) {}

  start(): void {
    this.#running = this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const answer = await send(this.baseUrl, this.next(), this.agent, this.name);
      this.answers.push(answer);
      if (answer.status === 401) this.onSignedOut();
      await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
    }
  }
}

/** A member who owns a community, made through the API. */
export async function newCast(baseUrl: string): Promise<Cast> {
  const email = `owner-${randomUUID()}@example.test`;
  const registered = await fetch(`${baseUrl}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD, name: "Owner" }),
  });
  const cookie = registered.headers.get("set-cookie")?.split(";")[0];
  if (registered.status !== 201 || !cookie) throw new Error(`register: ${registered.status} ${await registered.text()}`);
  const created = await fetch(`${baseUrl}/api/communities`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ name: `Club ${randomUUID().slice(0, 8)}` }),
  });
  if (created.status !== 201) throw new Error(`create community: ${created.status} ${await created.text()}`);
  const { community } = (await created.json()) as { community: { slug: string } };
  return new Cast(baseUrl, email, cookie, community.slug);
}

/** What each kind of client asks for, as the cast. */
function requestsOf(cast: Cast) {
  return {
    profile: (): Request => ({ method: "GET", path: `/api/communities/${cast.slug}` }),
    me: (): Request => ({ method: "GET", path: "/api/auth/me", cookie: cast.cookie }),
    newsList: (): Request => ({ method: "GET", path: `/api/communities/${cast.slug}/news`, cookie: cast.cookie }),
    publish: (): Request => ({
      method: "POST",
      path: `/api/communities/${cast.slug}/news`,
      cookie: cast.cookie,
      body: { title: `News ${randomUUID().slice(0, 8)}`, body: "Posted under load." },
    }),
  };
}

type ClientSpec = [name: string, next: () => Request, connections: "keep-alive" | "new"];

export class Traffic {
  readonly #clients: Client[];
  readonly #agents: http.Agent[] = [];

  /** Seven clients, a short pause after each answer: public reads, member reads and writes, keep-alive and not. */
  static everyday(baseUrl: string, cast: Cast): Traffic {
    const { profile, me, newsList, publish } = requestsOf(cast);
    return new Traffic(baseUrl, cast, 20, [
      ["public read, keep-alive", profile, "keep-alive"],
      ["public read, keep-alive", profile, "keep-alive"],
      ["public read, new connections", profile, "new"],
      ["member read, keep-alive", me, "keep-alive"],
      ["member read, new connections", newsList, "new"],
      ["write, keep-alive", publish, "keep-alive"],
      ["write, new connections", publish, "new"],
    ]);
  }

  /** `size` members reading the news at once, each sending the next request as soon as the answer is in. */
  static crowd(baseUrl: string, cast: Cast, size: number): Traffic {
    const { newsList } = requestsOf(cast);
    return new Traffic(
      baseUrl,
      cast,
      0,
      Array.from({ length: size }, (): ClientSpec => ["crowd", newsList, "keep-alive"]),
    );
  }

  private constructor(baseUrl: string, cast: Cast, pauseMs: number, specs: ClientSpec[]) {
    this.#clients = specs.map(([name, next, connections]) => {
      const agent = connections === "new" ? false : new http.Agent({ keepAlive: true, maxSockets: 1 });
      if (agent) this.#agents.push(agent);
      return new Client(name, baseUrl, next, agent, pauseMs, () => cast.signedOut());
    });
  }

  start(): this {
    for (const client of this.#clients) client.start();
    return this;
  }

  /** The answers received so far, in no particular order. */
  answersSoFar(): Answer[] {
    return this.#clients.flatMap((client) => client.answers);
  }

  /** Stops every client once its request in flight has its answer; returns every answer, in the order they were sent. */
  async stop(): Promise<Answer[]> {
    await Promise.all(this.#clients.map((client) => client.stop()));
    for (const agent of this.#agents) agent.destroy();
    return this.#clients.flatMap((client) => client.answers).sort((a, b) => a.startedAt - b.startedAt);
  }
}

/** A 503 or 429 that says when to come back: the service refusing on purpose, not failing. */
export const isRefusal = (answer: Answer) => (answer.status === 503 || answer.status === 429) && answer.retryAfter !== undefined;
export const isOk = (answer: Answer) => answer.status !== undefined && answer.status < 400;

export const describeAnswer = (answer: Answer) =>
  `${answer.client} ${answer.method}: ${answer.status ?? answer.failure} after ${Math.round(answer.endedAt - answer.startedAt)} ms`;

/** Acknowledged writes (201 with the id) that the database does not have. */
export async function lostWrites(databaseUrl: string, answers: readonly Answer[]): Promise<string[]> {
  const acknowledged = answers.flatMap((answer) => (answer.createdId ? [answer.createdId] : []));
  const found = await query<{ id: string }>(databaseUrl, "select id::text from news where id = any($1::uuid[])", [acknowledged]);
  const stored = new Set(found.map((row) => row.id));
  return acknowledged.filter((id) => !stored.has(id));
}
