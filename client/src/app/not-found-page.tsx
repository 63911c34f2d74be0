import { AnchorLink } from "../components/links.tsx";
import { Text } from "@mantine/core";

import { Page } from "../components/page.tsx";
import { ErrorMessage } from "../components/status.tsx";
import { useT } from "../i18n/i18n.tsx";

export function NotFoundPage() {
  const t = useT();
  return (
    <Page title={t("notFound.title")}>
      <Text>{t("notFound.text")}</Text>
      <AnchorLink to="/">{t("notFound.home")}</AnchorLink>
    </Page>
  );
}

/** A page that failed to render: the error in words, never a blank screen. */
export function CrashPage({ error }: { error: unknown }) {
  const t = useT();
  return (
    <Page title={t("error.title")}>
      <ErrorMessage error={error} />
      <AnchorLink to="/">{t("notFound.home")}</AnchorLink>
    </Page>
  );
}
