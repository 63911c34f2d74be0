import { Stack, Table } from "@mantine/core";
import { LoadMore } from "../../components/load-more.tsx";
import { ScrollRegion } from "../../components/scroll-region.tsx";
import { Empty, ErrorMessage, Loading } from "../../components/status.tsx";
import { useFormatDate, useI18n } from "../../i18n/i18n.tsx";
import { usePayments } from "./api.ts";
import { formatMoney } from "./money.ts";

/** The community's payments (dues and subscription), newest first, for its admins. */
export function PaymentsPanel({ slug }: { slug: string }) {
  const { t, language } = useI18n();
  const formatDate = useFormatDate();
  const list = usePayments(slug);
  if (list.error) return <ErrorMessage error={list.error} />;
  if (!list.data) return <Loading />;
  const payments = list.data.pages.flatMap((page) => page.items);
  if (payments.length === 0) return <Empty>{t("payments.none")}</Empty>;
  return (
    <Stack>
      <ScrollRegion label={t("tab.payments")}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("payments.date")}</Table.Th>
              <Table.Th>{t("payments.kind")}</Table.Th>
              <Table.Th>{t("payments.amount")}</Table.Th>
              <Table.Th>{t("payments.fee")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {payments.map((payment) => (
              <Table.Tr key={payment.id}>
                <Table.Td>{formatDate(payment.createdAt)}</Table.Td>
                <Table.Td>{payment.kind}</Table.Td>
                <Table.Td>{formatMoney(payment.amountCents, payment.currency, language)}</Table.Td>
                <Table.Td>{formatMoney(payment.applicationFeeCents, payment.currency, language)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollRegion>
      <LoadMore list={list} />
    </Stack>
  );
}
