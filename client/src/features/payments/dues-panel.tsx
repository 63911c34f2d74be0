import { Section } from "../../components/section.tsx";
import { Alert, Button, Card, Group, List, NativeSelect, Stack, Text, TextInput } from "@mantine/core";
import { useRouterState } from "@tanstack/react-router";
import { useState } from "react";
import { z } from "zod";
import type { Role } from "../../../../shared/api/communities.ts";
import { DUES_CURRENCIES, type DuesDto } from "../../../../shared/api/dues.ts";
import { showFieldErrors, useSchemaForm } from "../../components/forms.ts";
import { ErrorMessage, QueryView } from "../../components/status.tsx";
import { useFormatDate, useI18n } from "../../i18n/i18n.tsx";
import { atLeast } from "../communities/roles.ts";
import { LoadMore } from "../../components/load-more.tsx";
import { useDues, useMyPayments, useSetDues, useStripeRedirect } from "./api.ts";
import { formatMoney } from "./money.ts";

/** Membership dues: what the community asks, until when the caller has paid, and the way to pay (Stripe Checkout). */
export function DuesPanel({ slug, role }: { slug: string; role: Role }) {
  const dues = useDues(slug);
  return (
    <QueryView query={dues}>
      {(data) => (
        <Stack>
          <PayDues slug={slug} dues={data} />
          <Receipts slug={slug} />
          {atLeast(role, "admin") && <DuesSettings slug={slug} dues={data} />}
        </Stack>
      )}
    </QueryView>
  );
}

function PayDues({ slug, dues }: { slug: string; dues: DuesDto }) {
  const { t, language } = useI18n();
  const formatDate = useFormatDate();
  const pay = useStripeRedirect(slug, "/dues/checkout");
  const returned = useRouterState({ select: (state) => new URLSearchParams(state.location.searchStr).get("checkout") });
  // The page's time of opening: dues that run out while it is open change nothing worth a re-render.
  const [openedAt] = useState(() => Date.now());
  if (dues.amountCents === null) return <Text>{t("dues.none")}</Text>;
  const paidUp = dues.paidUntil !== null && Date.parse(dues.paidUntil) > openedAt;
  return (
    <Card withBorder>
      <Stack>
        <Text>{t("dues.amount", { amount: formatMoney(dues.amountCents, dues.currency, language), months: dues.periodMonths })}</Text>
        {returned === "done" && (
          <Alert color="green" role="status">
            {t("dues.thanks")}
          </Alert>
        )}
        <Text fw={600} data-testid="dues-status">
          {paidUp ? t("dues.paidUntil", { date: formatDate(dues.paidUntil as string) }) : t("dues.unpaid")}
        </Text>
        {!dues.payable && <Text c="dimmed">{t("dues.notPayable")}</Text>}
        <ErrorMessage error={pay.error} />
        <Button onClick={() => pay.mutate(undefined)} loading={pay.isPending} disabled={!dues.payable} style={{ alignSelf: "flex-start" }}>
          {t("dues.pay")}
        </Button>
      </Stack>
    </Card>
  );
}

function Receipts({ slug }: { slug: string }) {
  const { t, language } = useI18n();
  const formatDate = useFormatDate();
  const list = useMyPayments(slug);
  const receipts = list.data?.pages.flatMap((page) => page.items) ?? [];
  if (list.error) return <ErrorMessage error={list.error} />;
  if (receipts.length === 0) return null;
  return (
    <Section title={t("dues.receipts")}>
      <List mt="xs">
        {receipts.map((payment) => (
          <List.Item key={payment.id}>
            {t("dues.receipt", {
              date: formatDate(payment.createdAt),
              amount: formatMoney(payment.amountCents, payment.currency, language),
              until: payment.paidUntil ? formatDate(payment.paidUntil) : "",
            })}
          </List.Item>
        ))}
      </List>
      <LoadMore list={list} />
    </Section>
  );
}

/** What an admin types: an amount in the currency's units ("25" or "25.50"), turned into cents. */
const duesForm = z.object({
  amount: z
    .string()
    .trim()
    .regex(/^(\d{1,5}([.,]\d{1,2})?)?$/, "an amount such as 25 or 25.50, or empty for no dues"),
  currency: z.enum(DUES_CURRENCIES),
  periodMonths: z.string().regex(/^\d{1,2}$/, "1 to 36"),
});

function DuesSettings({ slug, dues }: { slug: string; dues: DuesDto }) {
  const { t } = useI18n();
  const save = useSetDues(slug);
  const form = useSchemaForm(duesForm, {
    amount: dues.amountCents === null ? "" : (dues.amountCents / 100).toFixed(2),
    currency: dues.currency as (typeof DUES_CURRENCIES)[number],
    periodMonths: String(dues.periodMonths),
  });
  const { errors } = form.formState;
  const submit = form.handleSubmit(({ amount, currency, periodMonths }) =>
    save.mutate(
      {
        amountCents: amount === "" ? null : Math.round(Number(amount.replace(",", ".")) * 100),
        currency,
        periodMonths: Number(periodMonths),
      },
      { onError: (error) => showFieldErrors(error, form.setError) },
    ),
  );
  return (
    <Section title={t("dues.settings")}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack>
          <Group align="flex-start" grow wrap="wrap">
            <TextInput label={t("dues.amountField")} inputMode="decimal" error={errors.amount?.message} {...form.register("amount")} />
            <NativeSelect
              label={t("dues.currency")}
              data={DUES_CURRENCIES.map((code) => ({ value: code, label: code.toUpperCase() }))}
              {...form.register("currency")}
            />
            <TextInput
              label={t("dues.period")}
              type="number"
              min={1}
              max={36}
              error={errors.periodMonths?.message}
              {...form.register("periodMonths")}
            />
          </Group>
          <ErrorMessage error={save.error} />
          {save.isSuccess && (
            <Alert color="green" role="status">
              {t("settings.saved")}
            </Alert>
          )}
          <Button type="submit" loading={save.isPending} style={{ alignSelf: "flex-start" }}>
            {t("settings.save")}
          </Button>
        </Stack>
      </form>
    </Section>
  );
}
