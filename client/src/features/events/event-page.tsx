import { Section } from "../../components/section.tsx";
import { AnchorLink, ButtonLink } from "../../components/links.tsx";
import { Alert, Button, Card, Group, Progress, Stack, Text } from "@mantine/core";
import { useParams } from "@tanstack/react-router";
import type { EventPageResponse } from "../../../../shared/api/events.ts";
import { ApiError } from "../../api/http.ts";
import { Page } from "../../components/page.tsx";
import { ErrorMessage, QueryView } from "../../components/status.tsx";
import { useFormatDate, useT } from "../../i18n/i18n.tsx";
import { SignedIn } from "../accounts/signed-in.tsx";
import { atLeast } from "../communities/roles.ts";
import { useMyTicketFor } from "../tickets/api.ts";
import { useCheckinStats, useEvent, useTakeTicket } from "./api.ts";
import { seatsLeft, seatsText } from "./seats.ts";

export function EventPage() {
  const { eventId } = useParams({ from: "/events/$eventId" });
  return <SignedIn>{() => <EventView eventId={eventId} />}</SignedIn>;
}

function EventView({ eventId }: { eventId: string }) {
  const t = useT();
  const formatDate = useFormatDate();
  const event = useEvent(eventId);
  return (
    <QueryView query={event}>
      {({ event, community, role }) => (
        <Page
          title={event.title}
          actions={
            <AnchorLink to="/communities/$slug/$tab" params={{ slug: community.slug, tab: "events" }} size="sm">
              {t("event.backTo", { name: community.name })}
            </AnchorLink>
          }
        >
          <Stack gap={4}>
            <Text>
              {formatDate(event.startsAt)}
              {event.endsAt && ` – ${formatDate(event.endsAt)}`}
            </Text>
            {event.location && <Text c="dimmed">{event.location}</Text>}
            <Text>{seatsText(event, t)}</Text>
          </Stack>
          <MyTicket page={{ event, community, role }} />
          {atLeast(role, "staff") && <Door eventId={event.id} />}
        </Page>
      )}
    </QueryView>
  );
}

function MyTicket({ page }: { page: EventPageResponse }) {
  const t = useT();
  const { event } = page;
  const ticket = useMyTicketFor(event.id);
  const take = useTakeTicket(event.id);
  if (ticket.error) return <ErrorMessage error={ticket.error} />;
  if (ticket.data === undefined) return null;
  if (ticket.data && ticket.data.status === "valid") {
    return (
      <Card withBorder>
        <Stack>
          <Text fw={600}>{t("ticket.youHaveOne")}</Text>
          <Group>
            <ButtonLink to="/tickets/$ticketId" params={{ ticketId: ticket.data.id }}>
              {t("ticket.show")}
            </ButtonLink>
            <ButtonLink to="/events/$eventId/self-checkin" params={{ eventId: event.id }} variant="outline">
              {t("selfCheckin.open")}
            </ButtonLink>
          </Group>
        </Stack>
      </Card>
    );
  }
  const soldOut = take.error instanceof ApiError && take.error.reason === "sold_out";
  return (
    <Stack align="flex-start">
      {soldOut ? <Alert color="orange">{t("event.soldOut")}</Alert> : <ErrorMessage error={take.error} />}
      <Button onClick={() => take.mutate()} loading={take.isPending} disabled={seatsLeft(event) === 0}>
        {t("ticket.take")}
      </Button>
    </Stack>
  );
}

/** What staff see: the way to the scanner and the door display, and the count at the door, kept fresh. */
function Door({ eventId }: { eventId: string }) {
  const t = useT();
  const stats = useCheckinStats(eventId, true);
  return (
    <Section title={t("door.title")}>
      <Stack>
        <Group>
          <ButtonLink to="/events/$eventId/scan" params={{ eventId }}>
            {t("door.scan")}
          </ButtonLink>
          <ButtonLink to="/events/$eventId/door" params={{ eventId }} variant="outline">
            {t("door.display")}
          </ButtonLink>
        </Group>
        <QueryView query={stats}>
          {({ ticketsIssued, checkedIn }) => (
            <Stack gap={4} aria-live="polite">
              <Text data-testid="checkin-stats">{t("door.stats", { checkedIn, issued: ticketsIssued })}</Text>
              <Progress value={ticketsIssued === 0 ? 0 : (checkedIn / ticketsIssued) * 100} aria-label={t("door.progress")} />
            </Stack>
          )}
        </QueryView>
      </Stack>
    </Section>
  );
}
