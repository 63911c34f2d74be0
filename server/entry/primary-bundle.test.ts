import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUILD_DIR } from "../build.ts";

/** Static imports and re-exports of an ESM file as esbuild writes it (dynamic `import()` calls are left out). */
const STATIC_IMPORT = /^(?:import|export)\s[^;]*?from\s*"([^"]+)";|^import\s*"([^"]+)";/gm;

/** Every file and package that loading `entry` loads, following its chunks. */
async function staticImportGraph(entry: string): Promise<{ files: Set<string>; packages: Set<string> }> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (files.has(file)) return;
    files.add(file);
    const source = await fs.readFile(file, "utf8");
    for (const match of source.matchAll(STATIC_IMPORT)) {
      const specifier = match[1] ?? match[2]!;
      if (specifier.startsWith(".")) await visit(path.resolve(path.dirname(file), specifier));
      else packages.add(specifier);
    }
  };
  await visit(entry);
  return { files, packages };
}

/** The sources bundled into `files`, from their source maps. */
async function bundledSources(files: Set<string>): Promise<string[]> {
  const maps = await Promise.all([...files].map(async (file) => JSON.parse(await fs.readFile(`${file}.map`, "utf8"))));
  return maps.flatMap((map: { sources: string[] }) => map.sources);
}

describe("the primary's bundle", () => {
  // docs/architecture.md: a crash in application code never takes the supervisor down.
  it("loads no application code: only pg, pino, prom-client, zod and Node's own modules, none of the modules, schema or jobs", async () => {
    const { files, packages } = await staticImportGraph(path.join(BUILD_DIR, "primary.js"));
    const foreign = [...packages].filter((name) => !name.startsWith("node:") && !["pg", "pino", "prom-client", "zod"].includes(name));
    expect(foreign).toEqual([]);
    const sources = await bundledSources(files);
    expect(sources.some((source) => source.endsWith("server/entry/primary.ts"))).toBe(true);
    const application = sources.filter((source) => /server\/(modules|http|jobs)\/|shared\/schema\/|demo-seed|migrate\.ts/.test(source));
    expect(application).toEqual([]);
  });
});
