import { Alert, Button, NativeSelect, Stack, Textarea, TextInput } from "@mantine/core";
import { JOIN_POLICIES, updateCommunityBody } from "../../../../shared/api/communities.ts";
import { showFieldErrors, useSchemaForm } from "../../components/forms.ts";
import { ErrorMessage, QueryView } from "../../components/status.tsx";
import { useT } from "../../i18n/i18n.tsx";
import { useCommunity, useUpdateCommunity } from "./api.ts";
import type { CommunityDto } from "../../../../shared/api/communities.ts";

export function SettingsPanel({ slug }: { slug: string }) {
  const community = useCommunity(slug);
  return <QueryView query={community}>{(profile) => <SettingsForm community={profile} />}</QueryView>;
}

function SettingsForm({ community }: { community: CommunityDto }) {
  const t = useT();
  const update = useUpdateCommunity(community.slug);
  const form = useSchemaForm(updateCommunityBody, {
    name: community.name,
    description: community.description,
    joinPolicy: community.joinPolicy,
  });
  const { errors } = form.formState;
  const submit = form.handleSubmit((body) => update.mutate(body, { onError: (error) => showFieldErrors(error, form.setError) }));
  return (
    <form onSubmit={(event) => void submit(event)} noValidate>
      <Stack maw={560}>
        <TextInput label={t("field.communityName")} required error={errors.name?.message} {...form.register("name")} />
        <Textarea
          label={t("field.description")}
          autosize
          minRows={3}
          error={errors.description?.message}
          {...form.register("description")}
        />
        <NativeSelect
          label={t("field.joinPolicy")}
          data={JOIN_POLICIES.map((policy) => ({ value: policy, label: t(`joinPolicy.${policy}`) }))}
          {...form.register("joinPolicy")}
        />
        <ErrorMessage error={update.error} />
        {update.isSuccess && (
          <Alert color="green" role="status">
            {t("settings.saved")}
          </Alert>
        )}
        <Button type="submit" loading={update.isPending} style={{ alignSelf: "flex-start" }}>
          {t("settings.save")}
        </Button>
      </Stack>
    </form>
  );
}
