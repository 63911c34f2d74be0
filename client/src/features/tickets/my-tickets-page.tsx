import { AnchorLink } from "../../components/links.tsx";
import { Badge, Card, Group, Stack, Text } from "@mantine/core";

import { LoadMore } from "../../components/load-more.tsx";
import { Page } from "../../components/page.tsx";
import { Empty, ErrorMessage, Loading } from "../../components/status.tsx";
import { useFormatDate, useT } from "../../i18n/i18n.tsx";
import { SignedIn } from "../accounts/signed-in.tsx";
import { useMyTickets } from "./api.ts";

export function MyTicketsPage() {
  const t = useT();
  return (
    <Page title={t("tickets.title")}>
      <SignedIn>{() => <TicketsList />}</SignedIn>
    </Page>
  );
}

function TicketsList() {
  const t = useT();
  const formatDate = useFormatDate();
  const list = useMyTickets();
  if (list.error) return <ErrorMessage error={list.error} />;
  if (!list.data) return <Loading />;
  const tickets = list.data.pages.flatMap((page) => page.items);
  if (tickets.length === 0) return <Empty>{t("tickets.none")}</Empty>;
  return (
    <Stack component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
      {tickets.map((ticket) => (
        <Card key={ticket.id} withBorder component="li">
          <Group justify="space-between" wrap="nowrap">
            <AnchorLink to="/tickets/$ticketId" params={{ ticketId: ticket.id }} fw={600}>
              {ticket.event.title}
            </AnchorLink>
            {ticket.status === "revoked" && <Badge color="red">{t("ticket.revoked")}</Badge>}
          </Group>
          <Text size="sm">{formatDate(ticket.event.startsAt)}</Text>
          {ticket.event.location && (
            <Text size="sm" c="dimmed">
              {ticket.event.location}
            </Text>
          )}
        </Card>
      ))}
      <LoadMore list={list} />
    </Stack>
  );
}
