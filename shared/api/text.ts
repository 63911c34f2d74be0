import { z } from "zod";

/**
 * The rules every string of the API follows. Control characters never reach
 * the database (Postgres refuses NUL outright) nor anybody's screen; names,
 * shown to other people, also refuse the bidirectional overrides that would
 * let one display as someone else's (U+202A to U+202E, U+2066 to U+2069).
 * Multi-line text keeps its tabs and line breaks.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_BUT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const BIDI_OVERRIDE = /[\u202a-\u202e\u2066-\u2069]/;

export const NO_CONTROL_CHARACTERS = "must not contain control characters";

const atMost = (max: number) => `at most ${max} characters`;

/** One line of text (a title, a place, a token, a code), trimmed, up to `max` characters. */
export const line = (max: number) =>
  z
    .string()
    .trim()
    .max(max, atMost(max))
    .refine((value) => !CONTROL.test(value), NO_CONTROL_CHARACTERS);

/** A required line: what `line` checks, and not empty once trimmed. */
export const requiredLine = (max: number) => line(max).refine((value) => value.length > 0, "required");

/** Text that may span lines (a description, a news body): tabs and line breaks are kept, other controls refused. */
export const paragraphs = (max: number) =>
  z
    .string()
    .trim()
    .max(max, atMost(max))
    .refine((value) => !CONTROL_BUT_LINE_BREAKS.test(value), NO_CONTROL_CHARACTERS);

/** A name shown to other people: a required line without bidirectional overrides. */
export const displayName = (max: number) =>
  requiredLine(max).refine((value) => !BIDI_OVERRIDE.test(value), "must not contain bidirectional override characters");

/** Untrimmed and unchanged (a password, a secret), but bounded and free of control characters. */
export const opaque = (max: number) =>
  z
    .string()
    .min(1, "required")
    .max(max, atMost(max))
    .refine((value) => !CONTROL.test(value), NO_CONTROL_CHARACTERS);
