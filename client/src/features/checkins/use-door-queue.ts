import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { enqueueScan, forgetOldScans, scanByNonce, scansOf, settleScan, type QueuedScan } from "./scan-queue.ts";
import { sendScan, type SendOutcome } from "./scan-sender.ts";

/** While scans wait, the queue is tried again this often (and at once when the browser says it is back online). */
const RETRY_EVERY_MS = 5_000;

export interface DoorQueue {
  /** False once a scan could not be sent; true again with the next answer. */
  online: boolean;
  signedOut: boolean;
  pending: QueuedScan[];
  /** Scans answered after they were queued whose answer needs someone's eyes (refused codes), and refused sendings. */
  problems: QueuedScan[];
  /** Queues the code and tries to send the queue; the scan's answer, or the scan still pending. */
  scan(code: string): Promise<QueuedScan>;
}

/**
 * The door's scans: each one is queued in IndexedDB before it is sent, and the
 * queue is sent in order, one scan at a time, by one flush at a time. A scan
 * that gets no answer stays queued and the scanner says it is offline; the
 * queue is sent again on `online`, on a timer and when the page shows again.
 */
export function useDoorQueue(queueId: string, request: (code: string) => { path: string; body: Record<string, string> }): DoorQueue {
  const [online, setOnline] = useState(true);
  const [signedOut, setSignedOut] = useState(false);
  const [pending, setPending] = useState<QueuedScan[]>([]);
  const [problems, setProblems] = useState<QueuedScan[]>([]);
  const flushing = useRef<Promise<void> | undefined>(undefined);
  const requestRef = useRef(request);
  useLayoutEffect(() => {
    requestRef.current = request;
  });

  const refresh = useCallback(async () => {
    const [waiting, answered, refused] = await Promise.all([
      scansOf(queueId, "pending"),
      scansOf(queueId, "answered"),
      scansOf(queueId, "problem"),
    ]);
    setPending(waiting);
    setProblems(
      [...refused, ...answered.filter((scan) => !scan.shown && scan.result === "invalid")].sort((a, b) => b.scannedAt - a.scannedAt),
    );
  }, [queueId]);

  const sendAll = useCallback(async () => {
    for (const scan of await scansOf(queueId, "pending")) {
      const { path, body } = requestRef.current(scan.code);
      const outcome: SendOutcome = await sendScan(scan, path, body);
      if (outcome.kind === "unreachable") {
        setOnline(false);
        setSignedOut(outcome.signedOut);
        break;
      }
      await settleScan(outcome.scan);
      setOnline(true);
      setSignedOut(false);
    }
    await refresh();
  }, [queueId, refresh]);

  /** One flush at a time: a flush asked for during another runs after it (the other may have stopped early). */
  const flush = useCallback(async () => {
    const previous = flushing.current ?? Promise.resolve();
    const next = previous.then(sendAll, sendAll);
    flushing.current = next;
    await next;
  }, [sendAll]);

  const scan = useCallback(
    async (code: string) => {
      const queued = await enqueueScan(queueId, code);
      await flush();
      const after = (await scanByNonce(queued.nonce)) ?? queued;
      if (after.state !== "answered") return after;
      // Answered while the person at the door looks: an answered scan is never written again but here.
      const shown = { ...after, shown: true };
      await settleScan(shown);
      await refresh();
      return shown;
    },
    [queueId, flush, refresh],
  );

  useEffect(() => {
    void forgetOldScans();
    // A flush ends with a refresh: what an earlier visit left in the queue shows, and goes.
    const again = () => void flush();
    again();
    const whenShown = () => document.visibilityState === "visible" && again();
    const timer = setInterval(again, RETRY_EVERY_MS);
    window.addEventListener("online", again);
    document.addEventListener("visibilitychange", whenShown);
    return () => {
      clearInterval(timer);
      window.removeEventListener("online", again);
      document.removeEventListener("visibilitychange", whenShown);
    };
  }, [flush, refresh]);

  return { online, signedOut, pending, problems, scan };
}
