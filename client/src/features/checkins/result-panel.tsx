import { Paper, Text } from "@mantine/core";
import { useFormatDate, useT, type Translate } from "../../i18n/i18n.tsx";
import type { QueuedScan } from "./scan-queue.ts";

/** Dark enough for white text at any size (contrast above 5:1, main.tsx), and told apart by their words as well. */
const COLOURS: Record<string, string> = {
  checked_in: "green.9",
  already_checked_in: "orange.9",
  invalid: "red.9",
  problem: "red.9",
  pending: "gray.8",
};

export function reasonText(scan: QueuedScan, t: Translate): string {
  switch (scan.reason) {
    case "unknown_code":
    case "wrong_event":
    case "revoked":
    case "door_code_expired":
    case "door_code_invalid":
    case "no_ticket":
      return t(`reason.${scan.reason}`);
    default:
      return scan.message ?? scan.reason ?? "";
  }
}

/** One answer at a time, in words and in colour, announced to screen readers. */
export function ResultPanel({ scan }: { scan: QueuedScan | undefined }) {
  const t = useT();
  const formatDate = useFormatDate();
  if (!scan) {
    return (
      <Paper p="lg" bg="gray.1" role="status" aria-live="assertive">
        <Text c="dimmed">{t("scanner.ready")}</Text>
      </Paper>
    );
  }
  const kind = scan.state === "answered" ? (scan.result ?? "invalid") : scan.state;
  const [headline, detail] = ((): [string, string] => {
    switch (kind) {
      case "checked_in":
        return [t("scanner.checkedIn"), scan.memberName ?? ""];
      case "already_checked_in":
        return [
          t("scanner.already"),
          t("scanner.firstAt", { name: scan.memberName ?? "", time: scan.firstCheckedInAt ? formatDate(scan.firstCheckedInAt) : "" }),
        ];
      case "pending":
        return [t("scanner.queued"), t("scanner.queuedDetail")];
      default:
        return [t("scanner.invalid"), reasonText(scan, t)];
    }
  })();
  return (
    <Paper p="lg" bg={COLOURS[kind] ?? COLOURS.invalid} role="status" aria-live="assertive" data-result={kind}>
      <Text c="white" fw={800} size="xl">
        {headline}
      </Text>
      <Text c="white" size="lg">
        {detail}
      </Text>
    </Paper>
  );
}
