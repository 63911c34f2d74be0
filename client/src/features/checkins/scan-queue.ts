import { openDB, type DBSchema, type IDBPDatabase } from "idb";

/**
 * The door's scans, kept in IndexedDB from the moment they are made until the
 * server has answered them: a scan made offline, or whose answer was lost,
 * survives a reload, a crash or a closed tab, and is sent again with the nonce
 * it got when it was made, so that the server answers a retry as the first
 * sending (never as a second scan of the ticket).
 */
export type ScanState = "pending" | "answered" | "problem";

export interface QueuedScan {
  nonce: string;
  /** Whose scans: a staff scanner's at an event, or a member's own door-code scans (`checkins:<event>`, `self:<event>`). */
  queue: string;
  code: string;
  scannedAt: number;
  state: ScanState;
  /** Once answered: `checked_in`, `already_checked_in` or `invalid`. */
  result?: string;
  reason?: string;
  memberName?: string;
  firstCheckedInAt?: string;
  /** For a problem: the API's message. */
  message?: string;
  /** Whether its answer was on screen as it was scanned; one that came later (after being queued) was seen by no one. */
  shown?: boolean;
}

interface ScansDb extends DBSchema {
  scans: { key: string; value: QueuedScan; indexes: { byQueueState: [string, ScanState] } };
}

let opened: Promise<IDBPDatabase<ScansDb>> | undefined;

function db(): Promise<IDBPDatabase<ScansDb>> {
  opened ??= openDB<ScansDb>("door-scans", 1, {
    upgrade(database) {
      database.createObjectStore("scans", { keyPath: "nonce" }).createIndex("byQueueState", ["queue", "state"]);
    },
  });
  return opened;
}

export async function enqueueScan(queue: string, code: string): Promise<QueuedScan> {
  const scan: QueuedScan = { nonce: crypto.randomUUID(), queue, code, scannedAt: Date.now(), state: "pending" };
  await (await db()).put("scans", scan);
  return scan;
}

export async function scansOf(queue: string, state: ScanState): Promise<QueuedScan[]> {
  const scans = await (await db()).getAllFromIndex("scans", "byQueueState", [queue, state]);
  return scans.sort((a, b) => a.scannedAt - b.scannedAt);
}

export async function scanByNonce(nonce: string): Promise<QueuedScan | undefined> {
  return (await db()).get("scans", nonce);
}

export async function settleScan(scan: QueuedScan): Promise<void> {
  await (await db()).put("scans", scan);
}

/** Answered scans are kept a day (the evening's list of problems), then dropped. */
export async function forgetOldScans(maxAgeMs = 24 * 3600_000): Promise<void> {
  const database = await db();
  const transaction = database.transaction("scans", "readwrite");
  for await (const cursor of transaction.store) {
    if (cursor.value.state !== "pending" && Date.now() - cursor.value.scannedAt > maxAgeMs) await cursor.delete();
  }
  await transaction.done;
}
