import { Section } from "../../components/section.tsx";
import { Alert, Button, Card, PasswordInput, Stack, Text } from "@mantine/core";
import { useNavigate } from "@tanstack/react-router";
import { changePasswordBody } from "../../../../shared/api/auth.ts";
import { showFieldErrors, useSchemaForm } from "../../components/forms.ts";
import { Page } from "../../components/page.tsx";
import { ErrorMessage } from "../../components/status.tsx";
import { useT } from "../../i18n/i18n.tsx";
import { useChangePassword, useSignOut } from "./session.ts";
import { SignedIn } from "./signed-in.tsx";

export function AccountPage() {
  const t = useT();
  return (
    <Page title={t("account.title")}>
      <SignedIn>
        {(user) => (
          <Stack>
            <Card withBorder>
              <Text fw={600}>{user.name}</Text>
              <Text c="dimmed">{user.email}</Text>
            </Card>
            <ChangePassword />
            <SignOut />
          </Stack>
        )}
      </SignedIn>
    </Page>
  );
}

function ChangePassword() {
  const t = useT();
  const change = useChangePassword();
  const form = useSchemaForm(changePasswordBody, { currentPassword: "", newPassword: "" });
  const { errors } = form.formState;
  const submit = form.handleSubmit((body) =>
    change.mutate(body, {
      onSuccess: () => form.reset(),
      onError: (error) => showFieldErrors(error, form.setError),
    }),
  );
  return (
    <Section title={t("account.changePassword")}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack maw={420}>
          <PasswordInput
            label={t("field.currentPassword")}
            autoComplete="current-password"
            error={errors.currentPassword?.message}
            {...form.register("currentPassword")}
          />
          <PasswordInput
            label={t("field.newPassword")}
            autoComplete="new-password"
            error={errors.newPassword?.message}
            {...form.register("newPassword")}
          />
          <ErrorMessage error={change.error} />
          {change.isSuccess && (
            <Alert color="green" role="status">
              {t("account.passwordChanged")}
            </Alert>
          )}
          <Button type="submit" loading={change.isPending}>
            {t("account.changePassword")}
          </Button>
        </Stack>
      </form>
    </Section>
  );
}

function SignOut() {
  const t = useT();
  const navigate = useNavigate();
  const signOut = useSignOut();
  return (
    <Stack align="flex-start">
      <ErrorMessage error={signOut.error} />
      <Button
        variant="outline"
        color="red"
        loading={signOut.isPending}
        onClick={() => signOut.mutate(undefined, { onSuccess: () => void navigate({ to: "/sign-in" }) })}
      >
        {t("account.signOut")}
      </Button>
    </Stack>
  );
}
