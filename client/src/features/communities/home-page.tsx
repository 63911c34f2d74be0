import { Section } from "../../components/section.tsx";
import { AnchorLink, ButtonLink } from "../../components/links.tsx";
import { Badge, Button, Card, Group, SegmentedControl, SimpleGrid, Stack, Text, Textarea, TextInput } from "@mantine/core";
import { useNavigate } from "@tanstack/react-router";
import { Controller } from "react-hook-form";
import { createCommunityBody } from "../../../../shared/api/communities.ts";
import { showFieldErrors, useSchemaForm } from "../../components/forms.ts";
import { LoadMore } from "../../components/load-more.tsx";
import { Page } from "../../components/page.tsx";
import { Empty, ErrorMessage, Loading } from "../../components/status.tsx";
import { useT } from "../../i18n/i18n.tsx";
import { useMe } from "../accounts/session.ts";
import { useCreateCommunity, useMyCommunities } from "./api.ts";

/** Signed in: the person's communities and a way to start one. Signed out: what this is, and the way in. */
export function HomePage() {
  const t = useT();
  const me = useMe();
  if (me.data === undefined) return <Loading />;
  if (me.data === null) return <Welcome />;
  return (
    <Page title={t("home.title")}>
      <MyCommunities />
      <CreateCommunity />
    </Page>
  );
}

function Welcome() {
  const t = useT();
  return (
    <Page title={t("welcome.title")}>
      <Text>{t("welcome.text")}</Text>
      <Group>
        <ButtonLink to="/sign-in">{t("nav.signIn")}</ButtonLink>
        <ButtonLink to="/sign-up" variant="outline">
          {t("nav.signUp")}
        </ButtonLink>
      </Group>
    </Page>
  );
}

function MyCommunities() {
  const t = useT();
  const list = useMyCommunities();
  if (list.error) return <ErrorMessage error={list.error} />;
  if (!list.data) return <Loading />;
  const communities = list.data.pages.flatMap((page) => page.items);
  if (communities.length === 0) return <Empty>{t("home.none")}</Empty>;
  return (
    <Stack>
      <SimpleGrid cols={{ base: 1, sm: 2 }} component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
        {communities.map((community) => (
          <Card key={community.id} withBorder component="li">
            <Group justify="space-between" wrap="nowrap">
              <AnchorLink to="/communities/$slug" params={{ slug: community.slug }} fw={600}>
                {community.name}
              </AnchorLink>
              <Badge variant="light">{t(`role.${community.role}`)}</Badge>
            </Group>
            <Text size="sm" c="dimmed">
              {t("community.memberCount", { count: community.memberCount })}
            </Text>
          </Card>
        ))}
      </SimpleGrid>
      <LoadMore list={list} />
    </Stack>
  );
}

function CreateCommunity() {
  const t = useT();
  const navigate = useNavigate();
  const create = useCreateCommunity();
  const form = useSchemaForm(createCommunityBody, { name: "", description: "", joinPolicy: "open" });
  const { errors } = form.formState;
  const submit = form.handleSubmit((body) =>
    create.mutate(body, {
      onSuccess: ({ community }) => void navigate({ to: "/communities/$slug", params: { slug: community.slug } }),
      onError: (error) => showFieldErrors(error, form.setError),
    }),
  );
  return (
    <Section title={t("home.create")}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack>
          <TextInput label={t("field.communityName")} required error={errors.name?.message} {...form.register("name")} />
          <Textarea
            label={t("field.description")}
            autosize
            minRows={2}
            error={errors.description?.message}
            {...form.register("description")}
          />
          <Controller
            control={form.control}
            name="joinPolicy"
            render={({ field }) => (
              <Stack gap={4}>
                <Text size="sm" fw={500} id="join-policy">
                  {t("field.joinPolicy")}
                </Text>
                <SegmentedControl
                  aria-labelledby="join-policy"
                  value={field.value ?? "open"}
                  onChange={field.onChange}
                  data={[
                    { value: "open", label: t("joinPolicy.open") },
                    { value: "invite", label: t("joinPolicy.invite") },
                  ]}
                />
              </Stack>
            )}
          />
          <ErrorMessage error={create.error} />
          <Button type="submit" loading={create.isPending} style={{ alignSelf: "flex-start" }}>
            {t("home.createSubmit")}
          </Button>
        </Stack>
      </form>
    </Section>
  );
}
