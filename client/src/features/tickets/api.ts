import { useQuery } from "@tanstack/react-query";
import type { MyTicketDto, TicketResponse } from "../../../../shared/api/events.ts";
import type { Page } from "../../../../shared/api/pagination.ts";
import { api, query } from "../../api/http.ts";
import { usePagedList } from "../communities/api.ts";

export function useMyTickets() {
  return usePagedList<MyTicketDto>(["tickets", "mine"], (cursor) => `/tickets${query({ limit: 100, cursor })}`);
}

/** The caller's ticket to one event, if any: looked up in their first hundred tickets (the soonest events). */
export function useMyTicketFor(eventId: string) {
  return useQuery({
    queryKey: ["tickets", "mine", "for", eventId],
    queryFn: async ({ signal }) => {
      const page = await api<Page<MyTicketDto>>(`/tickets${query({ limit: 100 })}`, { signal });
      return page.items.find((ticket) => ticket.eventId === eventId) ?? null;
    },
  });
}

export function useTicket(ticketId: string) {
  return useQuery({
    queryKey: ["tickets", ticketId],
    queryFn: async ({ signal }) => (await api<TicketResponse>(`/tickets/${ticketId}`, { signal })).ticket,
  });
}
