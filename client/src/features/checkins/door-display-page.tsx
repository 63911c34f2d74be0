import { AnchorLink } from "../../components/links.tsx";
import { Center, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "@tanstack/react-router";
import type { DoorCodeResponse } from "../../../../shared/api/events.ts";
import { api } from "../../api/http.ts";
import { Page } from "../../components/page.tsx";
import { QrCode } from "../../components/qr-code.tsx";
import { ErrorMessage, Loading } from "../../components/status.tsx";
import { useT } from "../../i18n/i18n.tsx";
import { SignedIn } from "../accounts/signed-in.tsx";
import { useCheckinStats } from "../events/api.ts";
import { useScreenKeptAwake } from "../tickets/wake-lock.ts";

/** The screen at the entrance: the event's door code as a QR, replaced as each one expires, for members to scan. */
export function DoorDisplayPage() {
  const { eventId } = useParams({ from: "/events/$eventId/door" });
  return <SignedIn>{() => <DoorDisplay eventId={eventId} />}</SignedIn>;
}

function DoorDisplay({ eventId }: { eventId: string }) {
  const t = useT();
  useScreenKeptAwake();
  const stats = useCheckinStats(eventId, true);
  const door = useQuery({
    queryKey: ["events", eventId, "door-code"],
    queryFn: ({ signal }) => api<DoorCodeResponse>(`/events/${eventId}/door-code`, { signal }),
    // Fetched again when the display should change codes (a little after, so that the new window has begun).
    refetchInterval: (query) => (query.state.data ? Math.max(1_000, Date.parse(query.state.data.refreshAt) - Date.now() + 250) : 5_000),
    refetchIntervalInBackground: true,
    staleTime: 0,
  });
  return (
    <Page
      title={t("doorDisplay.title")}
      actions={
        <AnchorLink to="/events/$eventId" params={{ eventId }} size="sm">
          {t("ticket.event")}
        </AnchorLink>
      }
    >
      <Stack align="center">
        <Text size="lg" ta="center">
          {t("doorDisplay.text")}
        </Text>
        {door.error && <ErrorMessage error={door.error} />}
        {door.data ? (
          <Center w="100%" p="md" bg="white">
            <QrCode value={door.data.code} label={t("doorDisplay.qrLabel")} size={480} />
          </Center>
        ) : (
          !door.error && <Loading />
        )}
        {stats.data && <Text>{t("door.stats", { checkedIn: stats.data.checkedIn, issued: stats.data.ticketsIssued })}</Text>}
      </Stack>
    </Page>
  );
}
