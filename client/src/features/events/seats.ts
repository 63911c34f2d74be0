import type { EventDto } from "../../../../shared/api/events.ts";
import type { Translate } from "../../i18n/i18n.tsx";

export function seatsLeft(event: EventDto): number | null {
  return event.capacity === null ? null : Math.max(0, event.capacity - event.ticketsIssued);
}

export function seatsText(event: EventDto, t: Translate): string {
  const left = seatsLeft(event);
  if (left === null) return t("event.noLimit");
  return left === 0 ? t("event.soldOut") : t("event.seatsLeft", { count: left });
}
