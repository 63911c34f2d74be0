import { Alert, Center, Loader, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { ApiError } from "../api/http.ts";
import { useT } from "../i18n/i18n.tsx";

/** What went wrong, as the API said it, with the request id to quote to an operator. */
export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  const t = useT();
  if (!error) return null;
  const apiError = error instanceof ApiError ? error : undefined;
  const message = apiError?.code === "network" ? t("error.network") : error instanceof Error ? error.message : String(error);
  return (
    <Alert color="red" title={title ?? t("error.title")} role="alert">
      <Text size="sm">{message}</Text>
      {apiError?.requestId && (
        <Text size="xs" c="dimmed" mt={4}>
          {t("error.requestId", { id: apiError.requestId })}
        </Text>
      )}
    </Alert>
  );
}

export function Loading() {
  const t = useT();
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Loader aria-hidden size="sm" />
      <Text ml="sm" c="dimmed" size="sm">
        {t("loading")}
      </Text>
    </Center>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Text c="dimmed" py="md">
      {children}
    </Text>
  );
}

/** A query's three states: loading, failed, or its data. */
export function QueryView<Data>({
  query,
  children,
}: {
  query: { data: Data | undefined; error: unknown; isPending: boolean };
  children: (data: Data) => ReactNode;
}) {
  if (query.error) return <ErrorMessage error={query.error} />;
  if (query.isPending || query.data === undefined) return <Loading />;
  return <>{children(query.data)}</>;
}
