import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { z } from "zod";
import type { ErrorDetail } from "../../shared/errors.ts";
import { AppError } from "../core/app-error.ts";

interface InputSchemas {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
}

type Parsed<S extends InputSchemas> = {
  [Part in keyof S]: S[Part] extends z.ZodType ? z.infer<S[Part]> : never;
};

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

/**
 * A route handler whose body, query and path parameters are parsed by zod
 * schemas from shared/api before it runs; it receives the typed result.
 * Handlers have no try/catch: Express 5 forwards a thrown error or a rejected
 * promise to the one error handler.
 */
export function validated<S extends InputSchemas>(
  schemas: S,
  handler: (input: Parsed<S>, req: Request, res: Response, next: NextFunction) => unknown,
): RequestHandler {
  return (req, res, next) => {
    // Kept for the latency line: once an error leaves the router, Express no longer knows the route's base path.
    res.locals.route = `${req.baseUrl}${(req.route as { path?: string } | undefined)?.path ?? ""}`;
    const input = {} as Record<keyof InputSchemas, unknown>;
    for (const part of ["params", "query", "body"] as const) {
      const schema = schemas[part];
      if (schema) input[part] = parsePart(schema, req[part], part);
    }
    return handler(input as Parsed<S>, req, res, next);
  };
}
