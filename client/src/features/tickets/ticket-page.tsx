import { AnchorLink } from "../../components/links.tsx";
import { Alert, Center, Stack, Text } from "@mantine/core";
import { useParams } from "@tanstack/react-router";
import type { TicketDto } from "../../../../shared/api/events.ts";
import { Page } from "../../components/page.tsx";
import { QrCode } from "../../components/qr-code.tsx";
import { QueryView } from "../../components/status.tsx";
import { useT } from "../../i18n/i18n.tsx";
import { SignedIn } from "../accounts/signed-in.tsx";
import { useTicket } from "./api.ts";
import { useScreenKeptAwake } from "./wake-lock.ts";

/** The ticket to show at the door: a large QR code, black on white, the screen kept on. */
export function TicketPage() {
  const { ticketId } = useParams({ from: "/tickets/$ticketId" });
  const t = useT();
  return (
    <Page title={t("ticket.title")}>
      <SignedIn>{() => <TicketView ticketId={ticketId} />}</SignedIn>
    </Page>
  );
}

function TicketView({ ticketId }: { ticketId: string }) {
  const ticket = useTicket(ticketId);
  return <QueryView query={ticket}>{(data) => <TicketQr ticket={data} />}</QueryView>;
}

function TicketQr({ ticket }: { ticket: TicketDto }) {
  const t = useT();
  useScreenKeptAwake();
  if (ticket.status === "revoked") return <Alert color="red">{t("ticket.revokedText")}</Alert>;
  return (
    <Stack align="center">
      <Text ta="center">{t("ticket.showAtDoor")}</Text>
      <Center w="100%" p="md" bg="white" style={{ borderRadius: 8 }}>
        <QrCode value={ticket.code} label={t("ticket.qrLabel")} size={360} />
      </Center>
      <AnchorLink to="/events/$eventId" params={{ eventId: ticket.eventId }}>
        {t("ticket.event")}
      </AnchorLink>
    </Stack>
  );
}
