import { Alert, Box, Button, Group, NativeSelect, Text } from "@mantine/core";
import { useRef } from "react";
import { useT } from "../../i18n/i18n.tsx";
import { useCamera, useQrScanning } from "./camera.ts";

/** The camera, its choice and its torch, reading QR codes into `onCode`. */
export function CameraView({ onCode, paused }: { onCode: (code: string) => void; paused: boolean }) {
  const t = useT();
  const videoRef = useRef<HTMLVideoElement>(null);
  const camera = useCamera(videoRef);
  const { decoderReady } = useQrScanning(videoRef, camera.state.status === "on" && !paused, onCode);
  const ready = decoderReady && camera.state.status === "on";
  return (
    <Box>
      {camera.state.status === "error" && (
        <Alert color="orange" mb="sm">
          {t(`camera.${camera.state.error}`)}
        </Alert>
      )}
      <video
        ref={videoRef}
        muted
        playsInline
        aria-label={t("camera.view")}
        style={{ width: "100%", maxHeight: "50vh", background: "#000", borderRadius: 8, objectFit: "cover" }}
      />
      <Group mt="xs">
        <Text size="sm" data-testid="camera-status" data-ready={ready}>
          {ready ? t("camera.ready") : camera.state.status === "error" ? "" : t("camera.starting")}
        </Text>
        {camera.devices.length > 1 && (
          <NativeSelect
            size="xs"
            aria-label={t("camera.choose")}
            value={camera.deviceId ?? ""}
            onChange={(event) => camera.chooseDevice(event.currentTarget.value)}
            data={camera.devices.map((device, index) => ({
              value: device.deviceId,
              label: device.label || t("camera.number", { number: index + 1 }),
            }))}
          />
        )}
        {camera.torch.available && (
          <Button size="xs" variant="outline" onClick={camera.torch.toggle} aria-pressed={camera.torch.on}>
            {t("camera.torch")}
          </Button>
        )}
      </Group>
    </Box>
  );
}
