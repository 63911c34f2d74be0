import { Button } from "@mantine/core";
import { useT } from "../i18n/i18n.tsx";

/** The next page of a paginated list, when there is one. */
export function LoadMore({ list }: { list: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => unknown } }) {
  const t = useT();
  if (!list.hasNextPage) return null;
  return (
    <Button variant="subtle" loading={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
      {t("list.more")}
    </Button>
  );
}
