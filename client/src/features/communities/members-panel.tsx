import { Section } from "../../components/section.tsx";
import { ActionIcon, Button, Group, NativeSelect, Stack, Table, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { addMemberBody, ROLES, type MemberDto, type Role } from "../../../../shared/api/communities.ts";
import { showFieldErrors, useSchemaForm } from "../../components/forms.ts";
import { LoadMore } from "../../components/load-more.tsx";
import { ScrollRegion } from "../../components/scroll-region.tsx";
import { Empty, ErrorMessage, Loading } from "../../components/status.tsx";
import { useFormatDate, useT } from "../../i18n/i18n.tsx";
import { useMe } from "../accounts/session.ts";
import { useAddMember, useChangeRole, useMembers, useRemoveMember } from "./api.ts";
import { atLeast } from "./roles.ts";

/** Members with search; admins also see emails, change roles, add by email and remove. */
export function MembersPanel({ slug, role }: { slug: string; role: Role }) {
  const t = useT();
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search.trim(), 300);
  const admin = atLeast(role, "admin");
  return (
    <Stack>
      {admin && <AddMember slug={slug} role={role} />}
      <TextInput
        type="search"
        label={t("members.search")}
        value={search}
        onChange={(event) => setSearch(event.currentTarget.value)}
        maw={360}
      />
      <MembersTable slug={slug} q={q} role={role} />
    </Stack>
  );
}

function MembersTable({ slug, q, role }: { slug: string; q: string; role: Role }) {
  const t = useT();
  const formatDate = useFormatDate();
  const me = useMe();
  const list = useMembers(slug, q);
  const change = useChangeRole(slug);
  const remove = useRemoveMember(slug);
  if (list.error) return <ErrorMessage error={list.error} />;
  if (!list.data) return <Loading />;
  const members = list.data.pages.flatMap((page) => page.items);
  if (members.length === 0) return <Empty>{t("members.none")}</Empty>;
  const admin = atLeast(role, "admin");
  // Only an owner makes or unmakes owners (the API refuses the rest: its message is shown).
  const grantable = ROLES.filter((candidate) => candidate !== "owner" || role === "owner");
  const canManage = (member: MemberDto) => admin && member.userId !== me.data?.id && (member.role !== "owner" || role === "owner");
  return (
    <Stack>
      <ErrorMessage error={change.error ?? remove.error} />
      <ScrollRegion label={t("tab.members")}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("field.name")}</Table.Th>
              <Table.Th>{t("members.role")}</Table.Th>
              <Table.Th visibleFrom="sm">{t("members.joined")}</Table.Th>
              {admin && <Table.Th>{t("members.actions")}</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {members.map((member) => (
              <Table.Tr key={member.userId}>
                <Table.Td>
                  <Text size="sm">{member.name}</Text>
                  {member.email && (
                    <Text size="xs" c="dimmed">
                      {member.email}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  {canManage(member) ? (
                    <NativeSelect
                      size="xs"
                      aria-label={t("members.roleOf", { name: member.name })}
                      value={member.role}
                      onChange={(event) => change.mutate({ userId: member.userId, role: event.currentTarget.value as Role })}
                      data={grantable.map((candidate) => ({ value: candidate, label: t(`role.${candidate}`) }))}
                    />
                  ) : (
                    t(`role.${member.role}`)
                  )}
                </Table.Td>
                <Table.Td visibleFrom="sm">{formatDate(member.joinedAt)}</Table.Td>
                {admin && (
                  <Table.Td>
                    {canManage(member) && (
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={t("members.remove", { name: member.name })}
                        onClick={() => window.confirm(t("members.removeConfirm", { name: member.name })) && remove.mutate(member.userId)}
                      >
                        ✕
                      </ActionIcon>
                    )}
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollRegion>
      <LoadMore list={list} />
    </Stack>
  );
}

function AddMember({ slug, role }: { slug: string; role: Role }) {
  const t = useT();
  const add = useAddMember(slug);
  const form = useSchemaForm(addMemberBody, { email: "", role: "member" });
  const grantable = ROLES.filter((candidate) => candidate !== "owner" || role === "owner");
  const submit = form.handleSubmit((body) =>
    add.mutate(body, { onSuccess: () => form.reset(), onError: (error) => showFieldErrors(error, form.setError) }),
  );
  return (
    <Section title={t("members.add")}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack>
          <Group align="flex-end">
            <TextInput
              label={t("field.email")}
              type="email"
              required
              error={form.formState.errors.email?.message}
              {...form.register("email")}
              style={{ flex: 1, minWidth: 200 }}
            />
            <NativeSelect
              label={t("members.role")}
              data={grantable.map((candidate) => ({ value: candidate, label: t(`role.${candidate}`) }))}
              {...form.register("role")}
            />
            <Button type="submit" loading={add.isPending}>
              {t("members.addSubmit")}
            </Button>
          </Group>
          <ErrorMessage error={add.error} />
        </Stack>
      </form>
    </Section>
  );
}
