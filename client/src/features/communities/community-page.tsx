import { lazy, Suspense } from "react";
import { Alert, Badge, Button, Group, Stack, Tabs, Text } from "@mantine/core";
import { useNavigate, useParams } from "@tanstack/react-router";
import type { CommunityDto, Role } from "../../../../shared/api/communities.ts";
import { Page } from "../../components/page.tsx";
import { ErrorMessage, Loading, QueryView } from "../../components/status.tsx";
import { useT } from "../../i18n/i18n.tsx";
import { useMe } from "../accounts/session.ts";
import { EventsPanel } from "../events/events-panel.tsx";
import { useCommunity, useJoin, useMyRole } from "./api.ts";
import { NewsPanel } from "./news-panel.tsx";
import { atLeast } from "./roles.ts";

// The members' list and the settings are an admin's tools mostly: loaded when their tab opens.
const MembersPanel = lazy(() => import("./members-panel.tsx").then((module) => ({ default: module.MembersPanel })));
const SettingsPanel = lazy(() => import("./settings-panel.tsx").then((module) => ({ default: module.SettingsPanel })));
const DuesPanel = lazy(() => import("../payments/dues-panel.tsx").then((module) => ({ default: module.DuesPanel })));
const PaymentsPanel = lazy(() => import("../payments/payments-panel.tsx").then((module) => ({ default: module.PaymentsPanel })));
const PayoutsPanel = lazy(() => import("../payments/payouts-panel.tsx").then((module) => ({ default: module.PayoutsPanel })));
const BillingPanel = lazy(() => import("../payments/billing-panel.tsx").then((module) => ({ default: module.BillingPanel })));

/** The tabs of a community, and the least role that sees each. */
const TABS = [
  { id: "news", least: "member" },
  { id: "events", least: "member" },
  { id: "members", least: "member" },
  { id: "dues", least: "member" },
  { id: "settings", least: "admin" },
  { id: "payments", least: "admin" },
  { id: "payouts", least: "admin" },
  { id: "billing", least: "admin" },
] as const satisfies ReadonlyArray<{ id: string; least: Role }>;

type TabId = (typeof TABS)[number]["id"];

/** `/communities/:slug` and `/communities/:slug/:tab`: the public profile for everyone, the community's life for its members. */
export function CommunityPage() {
  const { slug, tab } = useParams({ strict: false }) as { slug: string; tab?: string };
  const community = useCommunity(slug);
  return (
    <QueryView query={community}>
      {(profile) => (
        <Page title={profile.name}>
          <Profile community={profile} />
          <Membership community={profile} tab={tab} />
        </Page>
      )}
    </QueryView>
  );
}

function Profile({ community }: { community: CommunityDto }) {
  const t = useT();
  return (
    <Stack gap={4}>
      {community.description && <Text style={{ whiteSpace: "pre-line" }}>{community.description}</Text>}
      <Group gap="xs">
        <Badge variant="light">{t("community.memberCount", { count: community.memberCount })}</Badge>
        <Badge variant="outline">{t(`joinPolicy.${community.joinPolicy}`)}</Badge>
      </Group>
    </Stack>
  );
}

function Membership({ community, tab }: { community: CommunityDto; tab: string | undefined }) {
  const t = useT();
  const me = useMe();
  const role = useMyRole(community.slug, Boolean(me.data));
  if (me.data === null) return <Alert>{t("community.signInToJoin")}</Alert>;
  if (role.error) return <ErrorMessage error={role.error} />;
  if (role.data === undefined) return <Loading />;
  if (role.data === null) return <Join community={community} />;
  return <CommunityTabs slug={community.slug} role={role.data} tab={tab} />;
}

function Join({ community }: { community: CommunityDto }) {
  const t = useT();
  const join = useJoin(community.slug);
  if (community.joinPolicy === "invite") return <Alert>{t("community.inviteOnly")}</Alert>;
  return (
    <Stack align="flex-start">
      <ErrorMessage error={join.error} />
      <Button onClick={() => join.mutate()} loading={join.isPending}>
        {t("community.join")}
      </Button>
    </Stack>
  );
}

function CommunityTabs({ slug, role, tab }: { slug: string; role: Role; tab: string | undefined }) {
  const t = useT();
  const navigate = useNavigate();
  const visible = TABS.filter((candidate) => atLeast(role, candidate.least));
  const current: TabId = visible.find((candidate) => candidate.id === tab)?.id ?? "news";
  return (
    <Tabs value={current} onChange={(next) => next && void navigate({ to: "/communities/$slug/$tab", params: { slug, tab: next } })}>
      <Tabs.List>
        {visible.map((candidate) => (
          <Tabs.Tab key={candidate.id} value={candidate.id}>
            {t(`tab.${candidate.id}`)}
          </Tabs.Tab>
        ))}
      </Tabs.List>
      <Tabs.Panel value={current} pt="md">
        <Suspense fallback={<Loading />}>
          {current === "news" && <NewsPanel slug={slug} role={role} />}
          {current === "events" && <EventsPanel slug={slug} role={role} />}
          {current === "members" && <MembersPanel slug={slug} role={role} />}
          {current === "settings" && <SettingsPanel slug={slug} />}
          {current === "dues" && <DuesPanel slug={slug} role={role} />}
          {current === "payments" && <PaymentsPanel slug={slug} />}
          {current === "payouts" && <PayoutsPanel slug={slug} role={role} />}
          {current === "billing" && <BillingPanel slug={slug} role={role} />}
        </Suspense>
      </Tabs.Panel>
    </Tabs>
  );
}
