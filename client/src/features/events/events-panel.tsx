import { Section } from "../../components/section.tsx";
import { AnchorLink } from "../../components/links.tsx";
import { Button, Card, Group, Stack, Text, TextInput } from "@mantine/core";

import { z } from "zod";
import type { Role } from "../../../../shared/api/communities.ts";
import { showFieldErrors, useSchemaForm } from "../../components/forms.ts";
import { LoadMore } from "../../components/load-more.tsx";
import { Empty, ErrorMessage, Loading } from "../../components/status.tsx";
import { useFormatDate, useT } from "../../i18n/i18n.tsx";
import { atLeast } from "../communities/roles.ts";
import { useCreateEvent, useEvents } from "./api.ts";
import { seatsText } from "./seats.ts";

export function EventsPanel({ slug, role }: { slug: string; role: Role }) {
  return (
    <Stack>
      {atLeast(role, "admin") && <CreateEvent slug={slug} />}
      <EventsList slug={slug} />
    </Stack>
  );
}

function EventsList({ slug }: { slug: string }) {
  const t = useT();
  const formatDate = useFormatDate();
  const list = useEvents(slug);
  if (list.error) return <ErrorMessage error={list.error} />;
  if (!list.data) return <Loading />;
  const events = list.data.pages.flatMap((page) => page.items);
  if (events.length === 0) return <Empty>{t("event.none")}</Empty>;
  return (
    <Stack component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
      {events.map((event) => (
        <Card key={event.id} withBorder component="li">
          <AnchorLink to="/events/$eventId" params={{ eventId: event.id }} fw={600}>
            {event.title}
          </AnchorLink>
          <Text size="sm">{formatDate(event.startsAt)}</Text>
          {event.location && (
            <Text size="sm" c="dimmed">
              {event.location}
            </Text>
          )}
          <Text size="sm">{seatsText(event, t)}</Text>
        </Card>
      ))}
      <LoadMore list={list} />
    </Stack>
  );
}

/** `datetime-local` gives a local time without a zone: read in the browser's time zone. */
const localDateTime = z
  .string()
  .min(1, "required")
  .transform((value) => new Date(value))
  .refine((date) => !Number.isNaN(date.getTime()), "not a date");

const eventForm = z
  .object({
    title: z.string().trim().min(1, "required").max(200),
    startsAt: localDateTime,
    endsAt: z.union([z.literal(""), localDateTime]).transform((value) => (value === "" ? undefined : value)),
    location: z.string().trim().max(300),
    capacity: z.union([z.literal(""), z.number().int().min(1).max(1_000_000)]),
  })
  .refine((form) => !form.endsAt || form.endsAt > form.startsAt, { message: "must be after the start", path: ["endsAt"] });

function CreateEvent({ slug }: { slug: string }) {
  const t = useT();
  const create = useCreateEvent(slug);
  const form = useSchemaForm(eventForm, { title: "", startsAt: "", endsAt: "", location: "", capacity: "" });
  const { errors } = form.formState;
  const submit = form.handleSubmit(({ title, startsAt, endsAt, location, capacity }) =>
    create.mutate(
      { title, startsAt, endsAt, location: location || undefined, capacity: capacity === "" ? undefined : capacity },
      { onSuccess: () => form.reset(), onError: (error) => showFieldErrors(error, form.setError) },
    ),
  );
  return (
    <Section title={t("event.create")}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack>
          <TextInput label={t("field.title")} required error={errors.title?.message} {...form.register("title")} />
          <Group grow wrap="wrap">
            <TextInput
              label={t("field.startsAt")}
              type="datetime-local"
              required
              error={errors.startsAt?.message}
              {...form.register("startsAt")}
            />
            <TextInput label={t("field.endsAt")} type="datetime-local" error={errors.endsAt?.message} {...form.register("endsAt")} />
          </Group>
          <TextInput label={t("field.location")} error={errors.location?.message} {...form.register("location")} />
          <TextInput
            label={t("field.capacity")}
            description={t("field.capacityHint")}
            type="number"
            inputMode="numeric"
            min={1}
            step={1}
            error={errors.capacity?.message}
            {...form.register("capacity", { setValueAs: (value: string) => (value === "" ? "" : Number(value)) })}
          />
          <ErrorMessage error={create.error} />
          <Button type="submit" loading={create.isPending} style={{ alignSelf: "flex-start" }}>
            {t("event.createSubmit")}
          </Button>
        </Stack>
      </form>
    </Section>
  );
}
