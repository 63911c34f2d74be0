import type { Express } from "express";
import { signedIn } from "./middleware/auth.ts";
import { INPUT_SCHEMAS, type InputSchemas } from "./validate.ts";

/**
 * Every route the application answers, read from Express's own router: what
 * the tenant-isolation and junk-input tests walk, so that a route they do not
 * cover fails them.
 */
export interface RouteEntry {
  method: string;
  /** The path template, mount points included: `/api/communities/:slug`. */
  path: string;
  /** Whether anonymous callers are refused (401) before anything else. */
  signedIn: boolean;
  /** The schemas its input is validated with (none for routes that read no input). */
  schemas: InputSchemas;
}

interface Handler {
  (...args: never[]): unknown;
  [INPUT_SCHEMAS]?: InputSchemas;
}

interface StackLayer {
  rawPath?: unknown;
  handle: Handler & { stack?: StackLayer[] };
  route?: { path: string; methods: Record<string, boolean>; stack: StackLayer[] };
}

export function routeTable(app: Express): RouteEntry[] {
  return walk((app as unknown as { router: { stack: StackLayer[] } }).router.stack, "");
}

function walk(stack: StackLayer[], prefix: string): RouteEntry[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const handlers = layer.route.stack.map((routeLayer) => routeLayer.handle);
      const entry = {
        path: `${prefix}${layer.route.path}`,
        signedIn: handlers.includes(signedIn as unknown as Handler),
        schemas: handlers.find((handle) => handle[INPUT_SCHEMAS])?.[INPUT_SCHEMAS] ?? {},
      };
      return Object.keys(layer.route.methods).map((method) => ({ method: method.toUpperCase(), ...entry }));
    }
    if (!layer.handle.stack) return [];
    const mount = typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : "";
    return walk(layer.handle.stack, `${prefix}${mount}`);
  });
}
