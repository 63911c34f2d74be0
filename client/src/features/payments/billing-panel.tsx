import { Alert, Badge, Button, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useRouterState } from "@tanstack/react-router";
import { PAID_PLANS } from "../../../../shared/api/billing.ts";
import type { Role } from "../../../../shared/api/communities.ts";
import { ApiError } from "../../api/http.ts";
import { ErrorMessage, QueryView } from "../../components/status.tsx";
import { useI18n } from "../../i18n/i18n.tsx";
import { useCommunity } from "../communities/api.ts";
import { usePlans, useStripeRedirect } from "./api.ts";
import { formatMoney } from "./money.ts";

/** The community's SaaS plan: the plans with their limits, Stripe Checkout to subscribe, the billing portal to change. */
export function BillingPanel({ slug, role }: { slug: string; role: Role }) {
  const { t, language } = useI18n();
  const plans = usePlans();
  const community = useCommunity(slug);
  const checkout = useStripeRedirect(slug, "/subscription/checkout");
  const portal = useStripeRedirect(slug, "/subscription/portal");
  const returned = useRouterState({ select: (state) => new URLSearchParams(state.location.searchStr).get("checkout") });
  const owner = role === "owner";
  const subscribed = checkout.error instanceof ApiError && checkout.error.reason === "subscribed";
  return (
    <Stack>
      {returned === "done" && (
        <Alert color="green" role="status">
          {t("billing.thanks")}
        </Alert>
      )}
      {!owner && <Text c="dimmed">{t("billing.ownerOnly")}</Text>}
      <QueryView query={plans}>
        {(list) => (
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            {list.map((plan) => (
              <Card key={plan.id} withBorder>
                <Group justify="space-between">
                  <Title order={2} size="h4">
                    {plan.name}
                  </Title>
                  {community.data?.plan === plan.id && <Badge>{t("billing.current")}</Badge>}
                </Group>
                <Text>
                  {plan.priceMonthlyCents === 0
                    ? t("billing.free")
                    : t("billing.perMonth", { price: formatMoney(plan.priceMonthlyCents, plan.currency, language) })}
                </Text>
                <Text size="sm" c="dimmed">
                  {t("billing.limits", {
                    members: plan.limits.members ?? "∞",
                    events: plan.limits.eventsPerMonth ?? "∞",
                  })}
                </Text>
                {owner && (PAID_PLANS as readonly string[]).includes(plan.id) && community.data?.plan !== plan.id && (
                  <Button
                    mt="sm"
                    onClick={() => checkout.mutate({ planId: plan.id })}
                    loading={checkout.isPending && (checkout.variables as { planId?: string } | undefined)?.planId === plan.id}
                  >
                    {t("billing.choose", { plan: plan.name })}
                  </Button>
                )}
              </Card>
            ))}
          </SimpleGrid>
        )}
      </QueryView>
      {subscribed ? <Alert>{t("billing.alreadySubscribed")}</Alert> : <ErrorMessage error={checkout.error} />}
      {owner && (
        <Stack align="flex-start">
          <ErrorMessage error={portal.error} />
          <Button variant="outline" onClick={() => portal.mutate(undefined)} loading={portal.isPending}>
            {t("billing.portal")}
          </Button>
        </Stack>
      )}
    </Stack>
  );
}
