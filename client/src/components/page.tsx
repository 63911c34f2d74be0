import { Stack, Title } from "@mantine/core";
import type { ReactNode } from "react";

/**
 * Every page: one h1, focused after each navigation (the layout moves focus to
 * it, so that a screen reader announces the new page), then its content.
 */
export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <Stack gap="md">
      <Stack gap="xs">
        <Title order={1} size="h2" tabIndex={-1} data-page-title>
          {title}
        </Title>
        {actions}
      </Stack>
      {children}
    </Stack>
  );
}
