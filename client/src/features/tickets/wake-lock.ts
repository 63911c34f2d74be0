import { useEffect } from "react";

/**
 * Keeps the screen on while the page shows (a ticket at the door, the door
 * code on its display), where the browser allows it. The lock is released when
 * the page is hidden: it is taken again when the page shows again.
 */
export function useScreenKeptAwake(): void {
  useEffect(() => {
    if (!("wakeLock" in navigator)) return;
    let lock: WakeLockSentinel | undefined;
    let active = true;
    const acquire = () => {
      if (document.visibilityState !== "visible") return;
      navigator.wakeLock.request("screen").then(
        (taken) => {
          if (active) lock = taken;
          else void taken.release();
        },
        () => undefined, // Refused (battery saver, no user gesture yet): the screen may dim, nothing else changes.
      );
    };
    acquire();
    document.addEventListener("visibilitychange", acquire);
    return () => {
      active = false;
      document.removeEventListener("visibilitychange", acquire);
      void lock?.release();
    };
  }, []);
}
