import { AnchorLink } from "../../components/links.tsx";
import { Button, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useNavigate } from "@tanstack/react-router";
import { PASSWORD_MIN_LENGTH, registerBody } from "../../../../shared/api/auth.ts";
import { showFieldErrors, useSchemaForm } from "../../components/forms.ts";
import { Page } from "../../components/page.tsx";
import { ErrorMessage } from "../../components/status.tsx";
import { useT } from "../../i18n/i18n.tsx";
import { useRegister } from "./session.ts";

export function SignUpPage() {
  const t = useT();
  const navigate = useNavigate();
  const register = useRegister();
  const form = useSchemaForm(registerBody, { name: "", email: "", password: "" });
  const { errors } = form.formState;
  const submit = form.handleSubmit((body) =>
    register.mutate(body, {
      onSuccess: () => void navigate({ to: "/", replace: true }),
      onError: (error) => showFieldErrors(error, form.setError),
    }),
  );
  return (
    <Page title={t("signUp.title")}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack maw={420}>
          <TextInput label={t("field.name")} autoComplete="name" required error={errors.name?.message} {...form.register("name")} />
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
            description={t("field.passwordRule", { min: PASSWORD_MIN_LENGTH })}
            autoComplete="new-password"
            required
            error={errors.password?.message}
            {...form.register("password")}
          />
          <ErrorMessage error={register.error} />
          <Button type="submit" loading={register.isPending}>
            {t("signUp.submit")}
          </Button>
          <Text size="sm">
            {t("signUp.member")} <AnchorLink to="/sign-in">{t("nav.signIn")}</AnchorLink>
          </Text>
        </Stack>
      </form>
    </Page>
  );
}
