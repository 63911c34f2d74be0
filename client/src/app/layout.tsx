import { AnchorLink } from "../components/links.tsx";
import { AppShell, Burger, Container, Group, NativeSelect, Stack, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Outlet, useRouterState } from "@tanstack/react-router";
import { useEffect, useRef } from "react";
import { useMe } from "../features/accounts/session.ts";
import { useI18n } from "../i18n/i18n.tsx";
import type { Language } from "../i18n/messages.ts";

/** After each navigation, focus goes to the new page's title: a screen reader announces it, the keyboard starts there. */
function useFocusOnNavigation() {
  const pathname = useRouterState({ select: (state) => state.location.pathname });
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.querySelector<HTMLElement>("[data-page-title]")?.focus();
  }, [pathname]);
}

function NavLinks({ onNavigate }: { onNavigate: () => void }) {
  const { t } = useI18n();
  const me = useMe();
  const links = me.data
    ? [
        { to: "/", label: t("nav.communities") },
        { to: "/tickets", label: t("nav.tickets") },
        { to: "/account", label: t("nav.account") },
      ]
    : [
        { to: "/sign-in", label: t("nav.signIn") },
        { to: "/sign-up", label: t("nav.signUp") },
      ];
  return (
    <>
      {links.map((link) => (
        <AnchorLink key={link.to} to={link.to} onClick={onNavigate} fw={500} activeProps={{ "aria-current": "page" }}>
          {link.label}
        </AnchorLink>
      ))}
    </>
  );
}

function LanguageSwitch() {
  const { language, setLanguage, t } = useI18n();
  return (
    <NativeSelect
      aria-label={t("nav.language")}
      size="xs"
      value={language}
      onChange={(event) => setLanguage(event.currentTarget.value as Language)}
      data={[
        { value: "en", label: "English" },
        { value: "fr", label: "Français" },
      ]}
    />
  );
}

export function Layout() {
  const { t } = useI18n();
  const [opened, { toggle, close }] = useDisclosure();
  useFocusOnNavigation();
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: "sm", collapsed: { desktop: true, mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t("nav.menu")} />
            <AnchorLink to="/" fw={700} c="inherit" underline="never">
              {t("app.name")}
            </AnchorLink>
          </Group>
          <Group gap="md" visibleFrom="sm" component="nav" aria-label={t("nav.main")}>
            <NavLinks onNavigate={close} />
            <LanguageSwitch />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="md" aria-label={t("nav.main")}>
        {/* Closed, the drawer is out of sight: its links must not be reachable by keyboard or read out either. */}
        {opened && (
          <Stack gap="sm">
            <NavLinks onNavigate={close} />
            <LanguageSwitch />
          </Stack>
        )}
      </AppShell.Navbar>
      <AppShell.Main>
        <Container size="md" px={0}>
          <Outlet />
        </Container>
        <Text component="footer" size="xs" ta="center" mt="xl">
          <AnchorLink to="/ops" size="xs">
            {t("nav.operators")}
          </AnchorLink>
        </Text>
      </AppShell.Main>
    </AppShell>
  );
}
