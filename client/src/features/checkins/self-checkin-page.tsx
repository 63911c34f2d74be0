import { AnchorLink } from "../../components/links.tsx";
import { Badge, Button, Stack, Text } from "@mantine/core";
import { useParams } from "@tanstack/react-router";
import { useCallback, useState } from "react";
import { Page } from "../../components/page.tsx";
import { useT } from "../../i18n/i18n.tsx";
import { SignedIn } from "../accounts/signed-in.tsx";
import { CameraView } from "./camera-view.tsx";
import { signalScan } from "./feedback.ts";
import { ResultPanel } from "./result-panel.tsx";
import type { QueuedScan } from "./scan-queue.ts";
import { useDoorQueue } from "./use-door-queue.ts";

/** A member scans the QR code shown at the entrance: their own ticket is checked in. */
export function SelfCheckinPage() {
  const { eventId } = useParams({ from: "/events/$eventId/self-checkin" });
  return <SignedIn>{() => <SelfCheckin eventId={eventId} />}</SignedIn>;
}

function SelfCheckin({ eventId }: { eventId: string }) {
  const t = useT();
  const request = useCallback((doorCode: string) => ({ path: `/events/${eventId}/self-checkin`, body: { doorCode } }), [eventId]);
  const queue = useDoorQueue(`self:${eventId}`, request);
  const [result, setResult] = useState<QueuedScan>();
  // One scan is enough: the camera stops reading once an answer is on screen, until the member asks to scan again.
  const done = result !== undefined && result.state !== "pending";

  const scan = useCallback(
    async (doorCode: string) => {
      const answered = await queue.scan(doorCode);
      setResult(answered);
      signalScan(answered);
    },
    [queue],
  );

  return (
    <Page
      title={t("selfCheckin.title")}
      actions={
        <AnchorLink to="/events/$eventId" params={{ eventId }} size="sm">
          {t("ticket.event")}
        </AnchorLink>
      }
    >
      <Text>{t("selfCheckin.text")}</Text>
      {!queue.online && <Badge color="orange">{t("scanner.offline")}</Badge>}
      <ResultPanel scan={result} />
      {done ? (
        <Stack align="flex-start">
          <Button variant="outline" onClick={() => setResult(undefined)}>
            {t("selfCheckin.again")}
          </Button>
        </Stack>
      ) : (
        <CameraView onCode={(code) => void scan(code)} paused={done} />
      )}
    </Page>
  );
}
