import { Alert, Badge, Button, Card, Group, List, Stack, Text } from "@mantine/core";
import { useRouterState } from "@tanstack/react-router";
import type { Role } from "../../../../shared/api/communities.ts";
import { ErrorMessage, QueryView } from "../../components/status.tsx";
import { useI18n } from "../../i18n/i18n.tsx";
import { usePayouts, useStripeRedirect } from "./api.ts";

/** Where the dues go: the community's Stripe Connect account, and its owner's way through Stripe's onboarding. */
export function PayoutsPanel({ slug, role }: { slug: string; role: Role }) {
  const { t } = useI18n();
  const payouts = usePayouts(slug);
  const onboarding = useStripeRedirect(slug, "/payouts/onboarding");
  const returned = useRouterState({ select: (state) => new URLSearchParams(state.location.searchStr).get("onboarding") });
  const flag = (on: boolean, label: string) => (
    <Badge color={on ? "green" : "gray"} variant="light">
      {label}: {on ? t("payouts.yes") : t("payouts.no")}
    </Badge>
  );
  return (
    <Stack>
      {returned === "done" && (
        <Alert color="green" role="status">
          {t("payouts.back")}
        </Alert>
      )}
      <QueryView query={payouts}>
        {(account) => (
          <Card withBorder>
            <Stack>
              <Group gap="xs">
                {flag(account.connected, t("payouts.connected"))}
                {flag(account.chargesEnabled, t("payouts.charges"))}
                {flag(account.payoutsEnabled, t("payouts.payouts"))}
              </Group>
              {account.requirementsDue.length > 0 && (
                <>
                  <Text size="sm">{t("payouts.requirements")}</Text>
                  <List size="sm">
                    {account.requirementsDue.map((requirement) => (
                      <List.Item key={requirement}>{requirement}</List.Item>
                    ))}
                  </List>
                </>
              )}
            </Stack>
          </Card>
        )}
      </QueryView>
      {role === "owner" && (
        <Stack align="flex-start">
          <ErrorMessage error={onboarding.error} />
          <Button onClick={() => onboarding.mutate(undefined)} loading={onboarding.isPending}>
            {t("payouts.onboard")}
          </Button>
        </Stack>
      )}
    </Stack>
  );
}
