import { AnchorLink } from "../../components/links.tsx";
import { Alert, Button, PasswordInput, Stack, TextInput } from "@mantine/core";
import { useSearch } from "@tanstack/react-router";
import { passwordResetBody, passwordResetConfirmBody } from "../../../../shared/api/auth.ts";
import { showFieldErrors, useSchemaForm } from "../../components/forms.ts";
import { Page } from "../../components/page.tsx";
import { ErrorMessage } from "../../components/status.tsx";
import { useT } from "../../i18n/i18n.tsx";
import { useConfirmPasswordReset, useRequestPasswordReset } from "./session.ts";

/** `/reset-password` asks for the email; the emailed link comes back with `?token=` to choose the new password. */
export function ResetPasswordPage() {
  const { token } = useSearch({ from: "/reset-password" });
  return token ? <ChooseNewPassword token={token} /> : <RequestReset />;
}

function RequestReset() {
  const t = useT();
  const request = useRequestPasswordReset();
  const form = useSchemaForm(passwordResetBody, { email: "" });
  const submit = form.handleSubmit(({ email }) => request.mutate(email, { onError: (error) => showFieldErrors(error, form.setError) }));
  return (
    <Page title={t("reset.title")}>
      {request.isSuccess ? (
        <Alert color="green" role="status">
          {t("reset.sent")}
        </Alert>
      ) : (
        <form onSubmit={(event) => void submit(event)} noValidate>
          <Stack maw={420}>
            <TextInput
              label={t("field.email")}
              type="email"
              autoComplete="email"
              required
              error={form.formState.errors.email?.message}
              {...form.register("email")}
            />
            <ErrorMessage error={request.error} />
            <Button type="submit" loading={request.isPending}>
              {t("reset.send")}
            </Button>
          </Stack>
        </form>
      )}
    </Page>
  );
}

function ChooseNewPassword({ token }: { token: string }) {
  const t = useT();
  const confirm = useConfirmPasswordReset();
  const form = useSchemaForm(passwordResetConfirmBody, { token, password: "" });
  const submit = form.handleSubmit((body) => confirm.mutate(body, { onError: (error) => showFieldErrors(error, form.setError) }));
  return (
    <Page title={t("reset.chooseTitle")}>
      {confirm.isSuccess ? (
        <Alert color="green" role="status">
          {t("reset.done")} <AnchorLink to="/sign-in">{t("nav.signIn")}</AnchorLink>
        </Alert>
      ) : (
        <form onSubmit={(event) => void submit(event)} noValidate>
          <Stack maw={420}>
            <PasswordInput
              label={t("field.newPassword")}
              autoComplete="new-password"
              required
              error={form.formState.errors.password?.message}
              {...form.register("password")}
            />
            <ErrorMessage error={confirm.error} />
            <Button type="submit" loading={confirm.isPending}>
              {t("reset.confirm")}
            </Button>
          </Stack>
        </form>
      )}
    </Page>
  );
}
