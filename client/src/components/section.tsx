import { Card, Title } from "@mantine/core";
import { useId, type ReactNode } from "react";

/** A part of a page: a bordered card named by its h2, a landmark a screen reader lists. */
export function Section({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <Card withBorder component="section" aria-labelledby={id}>
      <Title order={2} size="h4" id={id} mb="xs">
        {title}
      </Title>
      {children}
    </Card>
  );
}
