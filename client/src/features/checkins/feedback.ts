import type { QueuedScan } from "./scan-queue.ts";

/** A sound and a vibration per kind of answer, distinct enough to tell apart without looking. */
export type Feedback = "checked_in" | "already_checked_in" | "invalid" | "queued";

const TONES: Record<Feedback, { frequency: number; durationMs: number; repeat: number }> = {
  checked_in: { frequency: 1046, durationMs: 120, repeat: 1 },
  already_checked_in: { frequency: 523, durationMs: 110, repeat: 2 },
  invalid: { frequency: 196, durationMs: 450, repeat: 1 },
  queued: { frequency: 784, durationMs: 60, repeat: 1 },
};

const VIBRATIONS: Record<Feedback, number[]> = {
  checked_in: [80],
  already_checked_in: [80, 80, 80],
  invalid: [400],
  queued: [30],
};

let audio: AudioContext | undefined;

function signal(kind: Feedback): void {
  navigator.vibrate?.(VIBRATIONS[kind]);
  try {
    audio ??= new AudioContext();
    const { frequency, durationMs, repeat } = TONES[kind];
    for (let index = 0; index < repeat; index += 1) {
      const start = audio.currentTime + (index * durationMs * 1.6) / 1000;
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = frequency;
      oscillator.type = kind === "invalid" ? "square" : "sine";
      gain.gain.setValueAtTime(0.2, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + durationMs / 1000);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start);
      oscillator.stop(start + durationMs / 1000);
    }
  } catch {
    // No audio on this device (or not yet allowed): the colour and the words still say it.
  }
}

/** The signal of a scan as it stands: queued, refused, or its answer. */
export function signalScan(scan: QueuedScan): void {
  if (scan.state === "pending") signal("queued");
  else if (scan.state === "problem") signal("invalid");
  else signal(scan.result === "checked_in" || scan.result === "already_checked_in" ? scan.result : "invalid");
}
