// What a bench run prints and writes: one row per scenario and target, the ratios of the product to its two
// ceilings, the figures by request class, and the checks that each row measured what its scenario means to.
import { writeFile } from "node:fs/promises";
import { ratio } from "./latency.ts";

export type TargetName = "baseline" | "product" | "database";

/** The answers of one request class (wrk's script tells them apart by the echoed request id). */
export interface ClassFigures {
  class: string;
  answers: number;
  statuses: Record<string, number>;
  /** Of the 2xx answers. */
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  /** Answers whose status is not one this class should get. */
  unexpected: number;
}

export interface Measurement {
  scenario: string;
  target: TargetName;
  /** wrk, autocannon, or pg for the database ceiling. */
  generator: string;
  connections: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** p99 of the 2xx answers alone: what the admitted requests waited when the rest were shed. */
  p99AdmittedMs: number | undefined;
  non2xx: number;
  errors: number;
  /** Answers whose status is not one the scenario expects (only 200 for the baseline). */
  unexpected: number;
  /** Answers per status code, e.g. { "201": 4210 }. */
  statuses: Record<string, number>;
  classes: ClassFigures[];
  /** Postgres transactions per request during the measured run (product and database ceiling). */
  transactionsPerRequest: number | undefined;
  /** CPU time of the server's processes per answer during the measured run, in µs (Linux); none for the ceiling. */
  cpuUsPerRequest: number | undefined;
  /** From the scenario's setup, read after the measured run, and from the run itself. */
  notes: string[];
}

/** Share of unexpected answers above which a row is measuring something else than its scenario. */
const MAX_UNEXPECTED_SHARE = 0.01;
/**
 * A ceiling issuing this many more transactions per request than the product no longer issues what the product does
 * (the cache answering the session user or the role, say), and flatters it.
 */
const MAX_TRANSACTION_EXCESS = 0.5;

const rowOf = (results: readonly Measurement[], scenario: string, target: TargetName) =>
  results.find((m) => m.scenario === scenario && m.target === target);

const times = (value: number | undefined) => (value === undefined ? "" : `${value.toFixed(2)}x`);
const ms = (value: number | undefined) => (value === undefined ? "" : value.toFixed(1));

/** The product's ratios to its ceilings, undefined where there is no such ceiling. */
export function ratios(m: Measurement, results: readonly Measurement[]) {
  if (m.target !== "product") return { toBaseline: undefined, p99ToBaseline: undefined, toDatabase: undefined };
  const baseline = rowOf(results, m.scenario, "baseline");
  return {
    toBaseline: ratio(m.reqPerSec, baseline?.reqPerSec),
    p99ToBaseline: ratio(m.p99Ms, baseline?.p99Ms),
    toDatabase: ratio(m.reqPerSec, rowOf(results, m.scenario, "database")?.reqPerSec),
  };
}

export function printTable(results: readonly Measurement[]): void {
  const header = [
    "scenario",
    "target",
    "load",
    "conns",
    "req/s",
    "p50 ms",
    "p99 ms",
    "p99 2xx",
    "non-2xx",
    "errors",
    "CPU µs/req",
    "x hello-world",
    "p99 x h-w",
    "x database",
  ];
  const rows = results.map((m) => {
    const r = ratios(m, results);
    return [
      m.scenario,
      m.target,
      m.generator,
      String(m.connections),
      Math.round(m.reqPerSec).toLocaleString("en-US"),
      ms(m.p50Ms),
      ms(m.p99Ms),
      ms(m.p99AdmittedMs),
      String(m.non2xx),
      String(m.errors),
      m.cpuUsPerRequest === undefined ? "" : String(Math.round(m.cpuUsPerRequest)),
      times(r.toBaseline),
      times(r.p99ToBaseline),
      times(r.toDatabase),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  // Text columns left-aligned, numbers right-aligned.
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const row of rows) console.log(line(row));
}

const statusList = (statuses: Record<string, number>) =>
  Object.entries(statuses)
    .map(([status, n]) => `${status} × ${n.toLocaleString("en-US")}`)
    .join(", ");

/** A loud line when more than MAX_UNEXPECTED_SHARE of `answered` is unexpected; false then. */
function checkShare(lines: string[], what: string, unexpected: number, answered: number, statuses: Record<string, number>): boolean {
  if (unexpected === 0 && answered > 0) return true;
  const share = answered === 0 ? 1 : unexpected / answered;
  const wrong = share > MAX_UNEXPECTED_SHARE;
  lines.push(
    `  ${wrong ? "MEASURING THE WRONG THING" : "warning"}: ${what}: ${unexpected.toLocaleString("en-US")} of ${answered.toLocaleString("en-US")} ` +
      `answers with an unexpected status (${statusList(statuses) || "no answers"})`,
  );
  return !wrong;
}

/**
 * Scenario notes, the figures by class, and a loud line for every row or class whose answers are not what the
 * scenario measures. False when one is off by more than MAX_UNEXPECTED_SHARE.
 */
export function printNotesAndChecks(results: readonly Measurement[]): boolean {
  let ok = true;
  const lines: string[] = [];
  for (const m of results) {
    for (const note of m.notes) lines.push(`  ${m.scenario}: ${note}`);
    if (m.target === "database") continue;
    const answered = Object.values(m.statuses).reduce((sum, n) => sum + n, 0);
    if (m.target === "product") {
      lines.push(`  ${m.scenario}: product answered ${statusList(m.statuses) || "nothing"}`);
      if (m.statuses["503"]) lines.push(`  ${m.scenario}: ${((100 * m.statuses["503"]) / answered).toFixed(1)}% shed (503)`);
      for (const c of m.classes) {
        lines.push(`    ${c.class}: ${statusList(c.statuses)}; 2xx p50 ${ms(c.p50Ms) || "-"} ms, p99 ${ms(c.p99Ms) || "-"} ms`);
        ok = checkShare(lines, `${m.scenario} -> ${c.class}`, c.unexpected, c.answers, c.statuses) && ok;
      }
    }
    ok = checkShare(lines, `${m.scenario} -> ${m.target}`, m.unexpected, answered, m.statuses) && ok;
    if (m.errors > 0) lines.push(`  warning: ${m.scenario} -> ${m.target}: ${m.errors} connection errors or timeouts`);
  }
  lines.push(...transactionChecks(results));
  if (lines.length > 0) console.log(`\nNotes\n${lines.join("\n")}`);
  return ok;
}

/** The product's round trips per request next to its ceiling's: the ceiling must follow what the product issues. */
function transactionChecks(results: readonly Measurement[]): string[] {
  return results.flatMap((ceiling) => {
    const product = ceiling.target === "database" ? rowOf(results, ceiling.scenario, "product") : undefined;
    if (!product || product.transactionsPerRequest === undefined || ceiling.transactionsPerRequest === undefined) return [];
    const excess = ceiling.transactionsPerRequest - product.transactionsPerRequest;
    return [
      `  ${ceiling.scenario}: Postgres transactions per request: product ${product.transactionsPerRequest.toFixed(2)}, ` +
        `database ceiling ${ceiling.transactionsPerRequest.toFixed(2)}` +
        (excess > MAX_TRANSACTION_EXCESS
          ? " -- THE CEILING ISSUES MORE THAN THE PRODUCT DOES: update its DbWork in bench/scenarios.ts to the calls the route makes now"
          : ""),
    ];
  });
}

/** What `--json FILE` writes: the run's parameters and one row per scenario and target, ratios included. */
export async function writeJson(
  file: string,
  parameters: Record<string, unknown>,
  results: readonly Measurement[],
  extra: Record<string, unknown>,
): Promise<void> {
  const rows = results.map((m) => ({ ...m, ...ratios(m, results) }));
  await writeFile(file, `${JSON.stringify({ at: new Date().toISOString(), parameters, results: rows, ...extra }, null, 2)}\n`);
  console.log(`\nFigures written to ${file}`);
}
