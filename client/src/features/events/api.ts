import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { CheckinStats, EventDto, EventPageResponse, EventResponse, TicketResponse } from "../../../../shared/api/events.ts";
import { api, query } from "../../api/http.ts";
import { usePagedList } from "../communities/api.ts";

export const eventKeys = {
  list: (slug: string) => ["communities", slug, "events"] as const,
  one: (eventId: string) => ["events", eventId] as const,
  stats: (eventId: string) => ["events", eventId, "stats"] as const,
};

export function useEvents(slug: string) {
  return usePagedList<EventDto>(eventKeys.list(slug), (cursor) => `/communities/${encodeURIComponent(slug)}/events${query({ cursor })}`);
}

/** What an admin types: local date and time fields, turned into instants with the browser's time zone. */
export interface NewEvent {
  title: string;
  startsAt: Date;
  endsAt?: Date;
  location?: string;
  capacity?: number;
}

export function useCreateEvent(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (event: NewEvent) =>
      api<EventResponse>(`/communities/${encodeURIComponent(slug)}/events`, {
        method: "POST",
        body: { ...event, startsAt: event.startsAt.toISOString(), endsAt: event.endsAt?.toISOString() },
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: eventKeys.list(slug) }),
  });
}

export function useEvent(eventId: string) {
  return useQuery({ queryKey: eventKeys.one(eventId), queryFn: ({ signal }) => api<EventPageResponse>(`/events/${eventId}`, { signal }) });
}

export function useTakeTicket(eventId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api<TicketResponse>(`/events/${eventId}/tickets`, { method: "POST" }),
    onSuccess: () =>
      Promise.all([client.invalidateQueries({ queryKey: ["tickets"] }), client.invalidateQueries({ queryKey: eventKeys.one(eventId) })]),
  });
}

/** Issued and checked in, read again every few seconds while `live` (the door is open). */
export function useCheckinStats(eventId: string, live: boolean) {
  return useQuery({
    queryKey: eventKeys.stats(eventId),
    queryFn: ({ signal }) => api<CheckinStats>(`/events/${eventId}/checkins/stats`, { signal }),
    refetchInterval: live ? 5_000 : false,
  });
}
