import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import type { z } from "zod";
import type { ErrorDetail } from "../../shared/errors.ts";
import { AppError } from "../core/app-error.ts";

export interface InputSchemas {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
}

type Parsed<S extends InputSchemas> = {
  [Part in keyof S]: S[Part] extends z.ZodType ? z.infer<S[Part]> : never;
};

/** Where a route's schemas are kept on its handler, for the route table (http/route-table.ts). */
export const INPUT_SCHEMAS = Symbol("input schemas");

/** The app setting that holds the largest JSON body, in bytes (set by createApp from the capacity plan). */
export const JSON_BODY_LIMIT = "json body limit";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const JSON_TYPES = ["application/json", "application/*+json"];

function detailsOf(error: z.ZodError, part: keyof InputSchemas): ErrorDetail[] {
  return error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.join(".") : part,
    message: issue.message,
  }));
}

/** Parses one part of the request, or throws 400 validation_failed with a message naming the field. */
function parsePart<Schema extends z.ZodType>(schema: Schema, value: unknown, part: keyof InputSchemas): z.infer<Schema> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const details = detailsOf(result.error, part);
  const message = details.map((detail) => `${detail.path}: ${detail.message}`).join("; ");
  throw new AppError("validation_failed", message, { details });
}

/** A body is announced by a non-zero Content-Length or by Transfer-Encoding (chunked). */
function hasBody(req: Request): boolean {
  if (req.get("transfer-encoding") !== undefined) return true;
  const length = req.get("content-length");
  return length !== undefined && length.trim() !== "0";
}

const parsers = new Map<number, RequestHandler>();

/** `strict` refuses bare primitives; malformed JSON and oversized bodies become 400 and 413 in the error handler. */
function jsonParser(limitBytes: number): RequestHandler {
  let parser = parsers.get(limitBytes);
  if (!parser) {
    parser = express.json({ limit: limitBytes, strict: true, type: JSON_TYPES });
    parsers.set(limitBytes, parser);
  }
  return parser;
}

/**
 * Reads the body of a state-changing request, here rather than for every
 * request, so that whatever runs before (`signedIn`: 401 for anonymous callers)
 * answers before any body is read. A body must be JSON, also where the route
 * reads none: HTML forms can only send urlencoded, multipart and text/plain
 * bodies, so no form post reaches a handler (415).
 */
function readBody(parse: boolean): RequestHandler {
  return (req, res, next) => {
    if (!STATE_CHANGING.has(req.method) || !hasBody(req)) return next();
    if (!req.is(JSON_TYPES)) throw new AppError("unsupported_media_type", "body: send JSON, with Content-Type: application/json");
    if (!parse) return next();
    jsonParser(req.app.get(JSON_BODY_LIMIT) as number)(req, res, next);
  };
}

/**
 * A route handler whose body, query and path parameters are parsed by zod
 * schemas from shared/api before it runs; it receives the typed result.
 * Handlers have no try/catch: Express 5 forwards a thrown error or a rejected
 * promise to the one error handler.
 */
export function validated<S extends InputSchemas>(
  schemas: S,
  handler: (input: Parsed<S>, req: Request, res: Response, next: NextFunction) => unknown,
): RequestHandler[] {
  const run: RequestHandler = (req, res, next) => {
    const input = {} as Record<keyof InputSchemas, unknown>;
    for (const part of ["params", "query", "body"] as const) {
      const schema = schemas[part];
      if (schema) input[part] = parsePart(schema, req[part], part);
    }
    return handler(input as Parsed<S>, req, res, next);
  };
  return [rememberRoute, readBody(schemas.body !== undefined), Object.assign(run, { [INPUT_SCHEMAS]: schemas })];
}

/** Kept for the latency line: once an error leaves the router, Express no longer knows the route's base path. */
const rememberRoute: RequestHandler = (req, res, next) => {
  res.locals.route = `${req.baseUrl}${(req.route as { path?: string } | undefined)?.path ?? ""}`;
  next();
};
