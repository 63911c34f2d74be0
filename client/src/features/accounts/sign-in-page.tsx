import { AnchorLink } from "../../components/links.tsx";
import { Button, Group, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { loginBody } from "../../../../shared/api/auth.ts";
import { showFieldErrors, useSchemaForm } from "../../components/forms.ts";
import { Page } from "../../components/page.tsx";
import { ErrorMessage } from "../../components/status.tsx";
import { useT } from "../../i18n/i18n.tsx";
import { useSignIn } from "./session.ts";

/** Only a path of this app: `?next=https://elsewhere` would make the sign-in page an open redirect. */
export function safeNext(next: string | undefined): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function SignInPage() {
  const t = useT();
  const { next } = useSearch({ from: "/sign-in" });
  const navigate = useNavigate();
  const signIn = useSignIn();
  const form = useSchemaForm(loginBody, { email: "", password: "" });
  const { errors } = form.formState;
  const submit = form.handleSubmit((body) =>
    signIn.mutate(body, {
      onSuccess: () => void navigate({ href: safeNext(next), replace: true }),
      onError: (error) => showFieldErrors(error, form.setError),
    }),
  );
  return (
    <Page title={t("signIn.title")}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack maw={420}>
          <TextInput
            label={t("field.email")}
            type="email"
            autoComplete="email"
            required
            error={errors.email?.message}
            {...form.register("email")}
          />
          <PasswordInput
            label={t("field.password")}
            autoComplete="current-password"
            required
            error={errors.password?.message}
            {...form.register("password")}
          />
          <ErrorMessage error={signIn.error} />
          <Group justify="space-between">
            <Button type="submit" loading={signIn.isPending}>
              {t("signIn.submit")}
            </Button>
            <AnchorLink to="/reset-password" size="sm">
              {t("signIn.forgot")}
            </AnchorLink>
          </Group>
          <Text size="sm">
            {t("signIn.new")} <AnchorLink to="/sign-up">{t("nav.signUp")}</AnchorLink>
          </Text>
        </Stack>
      </form>
    </Page>
  );
}
