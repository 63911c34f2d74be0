import { Section } from "../../components/section.tsx";
import { Button, Card, Stack, Text, Textarea, TextInput, Title } from "@mantine/core";
import type { Role } from "../../../../shared/api/communities.ts";
import { createNewsBody } from "../../../../shared/api/communities.ts";
import { showFieldErrors, useSchemaForm } from "../../components/forms.ts";
import { LoadMore } from "../../components/load-more.tsx";
import { Empty, ErrorMessage, Loading } from "../../components/status.tsx";
import { useFormatDate, useT } from "../../i18n/i18n.tsx";
import { useNews, usePostNews } from "./api.ts";
import { atLeast } from "./roles.ts";

export function NewsPanel({ slug, role }: { slug: string; role: Role }) {
  return (
    <Stack>
      {atLeast(role, "admin") && <PostNews slug={slug} />}
      <NewsList slug={slug} />
    </Stack>
  );
}

function NewsList({ slug }: { slug: string }) {
  const t = useT();
  const formatDate = useFormatDate();
  const list = useNews(slug);
  if (list.error) return <ErrorMessage error={list.error} />;
  if (!list.data) return <Loading />;
  const items = list.data.pages.flatMap((page) => page.items);
  if (items.length === 0) return <Empty>{t("news.none")}</Empty>;
  return (
    <Stack component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
      {items.map((news) => (
        <Card key={news.id} withBorder component="li">
          <Title order={2} size="h4">
            {news.title}
          </Title>
          <Text size="xs" c="dimmed">
            {formatDate(news.createdAt)}
          </Text>
          <Text mt="xs" style={{ whiteSpace: "pre-line" }}>
            {news.body}
          </Text>
        </Card>
      ))}
      <LoadMore list={list} />
    </Stack>
  );
}

function PostNews({ slug }: { slug: string }) {
  const t = useT();
  const post = usePostNews(slug);
  const form = useSchemaForm(createNewsBody, { title: "", body: "" });
  const { errors } = form.formState;
  const submit = form.handleSubmit((body) =>
    post.mutate(body, { onSuccess: () => form.reset(), onError: (error) => showFieldErrors(error, form.setError) }),
  );
  return (
    <Section title={t("news.post")}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack>
          <TextInput label={t("field.title")} required error={errors.title?.message} {...form.register("title")} />
          <Textarea label={t("field.body")} required autosize minRows={3} error={errors.body?.message} {...form.register("body")} />
          <ErrorMessage error={post.error} />
          <Button type="submit" loading={post.isPending} style={{ alignSelf: "flex-start" }}>
            {t("news.publish")}
          </Button>
        </Stack>
      </form>
    </Section>
  );
}
