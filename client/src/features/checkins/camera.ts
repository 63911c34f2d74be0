import { useCallback, useEffect, useEffectEvent, useState, type RefObject } from "react";
import type * as DecoderModule from "./qr-decoder.ts";

export type CameraState = { status: "starting" } | { status: "on" } | { status: "error"; error: "denied" | "missing" | "failed" };

export interface Camera {
  state: CameraState;
  /** The cameras the device has (labels only once permission is granted). */
  devices: MediaDeviceInfo[];
  deviceId: string | undefined;
  chooseDevice(deviceId: string): void;
  torch: { available: boolean; on: boolean; toggle(): void };
}

/** The back camera by default (the one facing the ticket), at a resolution a QR code decodes well from. */
function constraints(deviceId: string | undefined): MediaStreamConstraints {
  const video: MediaTrackConstraints = deviceId
    ? { deviceId: { exact: deviceId } }
    : { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } };
  return { video, audio: false };
}

function errorOf(error: unknown): "denied" | "missing" | "failed" {
  const name = error instanceof DOMException ? error.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") return "denied";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "missing";
  return "failed";
}

interface TorchCapabilities extends MediaTrackCapabilities {
  torch?: boolean;
}

/** The camera shown in the video element of `videoRef`, switched and lit on demand, stopped when the page goes. */
export function useCamera(videoRef: RefObject<HTMLVideoElement | null>): Camera {
  const supported = typeof navigator.mediaDevices?.getUserMedia === "function";
  const [state, setState] = useState<CameraState>({ status: "starting" });
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [deviceId, setDeviceId] = useState<string>();
  const [track, setTrack] = useState<MediaStreamTrack>();
  const [torchOn, setTorchOn] = useState(false);

  useEffect(() => {
    if (!supported) return;
    let stream: MediaStream | undefined;
    let active = true;
    navigator.mediaDevices
      .getUserMedia(constraints(deviceId))
      .then(async (opened) => {
        stream = opened;
        if (!active) return;
        const video = videoRef.current;
        if (video) {
          video.srcObject = opened;
          await video.play().catch(() => undefined);
        }
        setTrack(opened.getVideoTracks()[0]);
        setTorchOn(false);
        setState({ status: "on" });
        setDevices((await navigator.mediaDevices.enumerateDevices()).filter((device) => device.kind === "videoinput"));
      })
      .catch((error: unknown) => active && setState({ status: "error", error: errorOf(error) }));
    return () => {
      active = false;
      for (const each of stream?.getTracks() ?? []) each.stop();
    };
  }, [deviceId, supported, videoRef]);

  const chooseDevice = useCallback((next: string) => {
    setState({ status: "starting" });
    setDeviceId(next);
  }, []);

  const torchAvailable = Boolean(track && (track.getCapabilities?.() as TorchCapabilities | undefined)?.torch);
  const toggleTorch = useCallback(() => {
    if (!track) return;
    const next = !torchOn;
    track
      .applyConstraints({ advanced: [{ torch: next } as MediaTrackConstraintSet] })
      .then(() => setTorchOn(next))
      .catch(() => undefined);
  }, [track, torchOn]);

  return {
    state: supported ? state : { status: "error", error: "missing" },
    devices,
    deviceId: deviceId ?? track?.getSettings().deviceId,
    chooseDevice,
    torch: { available: torchAvailable, on: torchOn, toggle: toggleTorch },
  };
}

let decoder: Promise<typeof DecoderModule> | undefined;

/**
 * The decoder and its WebAssembly, loaded once, as the scanner opens: the door's network may be gone by the first
 * code. A failed load (already offline) is tried again at the next frame.
 */
export function loadDecoder(): Promise<typeof DecoderModule> {
  decoder ??= import("./qr-decoder.ts").then(async (module) => {
    await module.ready();
    return module;
  });
  decoder.catch(() => (decoder = undefined));
  return decoder;
}

/**
 * Reads the video a few times a second and calls `onCode` with each code seen.
 * The same code held in front of the camera is reported once every `repeatAfterMs`.
 */
export function useQrScanning(
  videoRef: RefObject<HTMLVideoElement | null>,
  enabled: boolean,
  onCode: (code: string) => void,
  repeatAfterMs = 4_000,
): { decoderReady: boolean } {
  const seen = useEffectEvent(onCode);
  const [decoderReady, setDecoderReady] = useState(false);
  useEffect(() => {
    let current = true;
    loadDecoder().then(
      () => current && setDecoderReady(true),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, []);
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const lastSeen = new Map<string, number>();
    const tick = async () => {
      const video = videoRef.current;
      if (stopped) return;
      if (video && context && video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth > 0) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const frame = context.getImageData(0, 0, canvas.width, canvas.height);
        const code = await loadDecoder()
          .then(({ decodeQr }) => decodeQr(frame))
          .catch(() => undefined);
        const now = Date.now();
        if (code && now - (lastSeen.get(code) ?? 0) > repeatAfterMs && !stopped) seen(code);
        if (code) lastSeen.set(code, now);
        for (const [known, at] of lastSeen) if (now - at > repeatAfterMs) lastSeen.delete(known);
      }
      if (!stopped) setTimeout(() => void tick(), 150);
    };
    void tick();
    return () => {
      stopped = true;
    };
  }, [videoRef, enabled, repeatAfterMs]);
  return { decoderReady };
}
