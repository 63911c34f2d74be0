import { Section } from "../../components/section.tsx";
import { AnchorLink } from "../../components/links.tsx";
import { Badge, Button, Group, List, Stack, Text, TextInput } from "@mantine/core";
import { useParams } from "@tanstack/react-router";
import { useCallback, useState, type FormEvent } from "react";
import { Page } from "../../components/page.tsx";
import { useFormatDate, useT } from "../../i18n/i18n.tsx";
import { SignedIn } from "../accounts/signed-in.tsx";
import { useCheckinStats, useEvent } from "../events/api.ts";
import { CameraView } from "./camera-view.tsx";
import { signalScan } from "./feedback.ts";
import { reasonText, ResultPanel } from "./result-panel.tsx";
import type { QueuedScan } from "./scan-queue.ts";
import { useDoorQueue } from "./use-door-queue.ts";

/** Door staff's scanner: camera or typed code, one answer at a time, scans kept and sent again while offline. */
export function ScannerPage() {
  const { eventId } = useParams({ from: "/events/$eventId/scan" });
  return <SignedIn>{() => <Scanner eventId={eventId} />}</SignedIn>;
}

function Scanner({ eventId }: { eventId: string }) {
  const t = useT();
  const event = useEvent(eventId);
  const stats = useCheckinStats(eventId, true);
  const request = useCallback((code: string) => ({ path: `/events/${eventId}/checkins`, body: { code } }), [eventId]);
  const queue = useDoorQueue(`checkins:${eventId}`, request);
  const [last, setLast] = useState<QueuedScan>();

  const scan = useCallback(
    async (code: string) => {
      const answered = await queue.scan(code);
      setLast(answered);
      signalScan(answered);
      void stats.refetch();
    },
    [queue, stats],
  );

  // Without network (reopened at the door) the event's title may not come: the scanner works all the same.
  const title = event.data ? t("scanner.title", { event: event.data.event.title }) : t("scanner.titleShort");
  return (
    <Page
      title={title}
      actions={
        <AnchorLink to="/events/$eventId" params={{ eventId }} size="sm">
          {t("ticket.event")}
        </AnchorLink>
      }
    >
      <Group justify="space-between">
        <Badge color={queue.online ? "green" : "orange"} size="lg" data-testid="connection">
          {queue.online ? t("scanner.online") : t("scanner.offline")}
        </Badge>
        <Text data-testid="scanner-stats" aria-live="polite">
          {stats.data ? t("door.stats", { checkedIn: stats.data.checkedIn, issued: stats.data.ticketsIssued }) : ""}
          {queue.pending.length > 0 && ` · ${t("scanner.pending", { count: queue.pending.length })}`}
        </Text>
      </Group>
      {queue.signedOut && (
        <Text c="orange.9">
          {t("scanner.signedOut")}{" "}
          <AnchorLink to="/sign-in" search={{ next: `/events/${eventId}/scan` }}>
            {t("nav.signIn")}
          </AnchorLink>
        </Text>
      )}
      <ResultPanel scan={last} />
      <CameraView onCode={(code) => void scan(code)} paused={false} />
      <ManualEntry onCode={scan} />
      <Problems problems={queue.problems} />
    </Page>
  );
}

function ManualEntry({ onCode }: { onCode: (code: string) => Promise<void> }) {
  const t = useT();
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!code.trim()) return;
    setBusy(true);
    await onCode(code.trim()).finally(() => setBusy(false));
    setCode("");
  };
  return (
    <form onSubmit={(event) => void submit(event)}>
      <Group align="flex-end">
        <TextInput
          label={t("scanner.manual")}
          value={code}
          onChange={(event) => setCode(event.currentTarget.value)}
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          style={{ flex: 1 }}
        />
        <Button type="submit" loading={busy}>
          {t("scanner.check")}
        </Button>
      </Group>
    </form>
  );
}

function Problems({ problems }: { problems: QueuedScan[] }) {
  const t = useT();
  const formatDate = useFormatDate();
  if (problems.length === 0) return null;
  return (
    <Section title={t("scanner.problems")}>
      <Stack gap="xs">
        <List>
          {problems.map((scan) => (
            <List.Item key={scan.nonce}>
              {formatDate(new Date(scan.scannedAt).toISOString())}: {reasonText(scan, t)} ({scan.code.slice(0, 12)}…)
            </List.Item>
          ))}
        </List>
      </Stack>
    </Section>
  );
}
