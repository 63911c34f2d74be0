import express, { type RequestHandler } from "express";

/**
 * JSON bodies only, within the tier's size limit. `strict` refuses bare
 * primitives; malformed JSON and oversized bodies are mapped to the error shape
 * by the error handler (400 validation_failed, 413 payload_too_large).
 */
export function jsonBody(limitBytes: number): RequestHandler {
  return express.json({ limit: limitBytes, strict: true, type: ["application/json", "application/*+json"] });
}
