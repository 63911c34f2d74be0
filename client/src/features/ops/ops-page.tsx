import { Section } from "../../components/section.tsx";
import { Badge, Button, Group, PasswordInput, SimpleGrid, Stack, Table, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { EmailDto } from "../../../../shared/api/emails.ts";
import type { InstanceStatus, SignalState } from "../../../../shared/api/ops.ts";
import type { Page as ListPage } from "../../../../shared/api/pagination.ts";
import type { WebhookEvent, WebhookStats } from "../../../../shared/api/payments.ts";
import { api, ApiError } from "../../api/http.ts";
import { Page } from "../../components/page.tsx";
import { ScrollRegion } from "../../components/scroll-region.tsx";
import { ErrorMessage, QueryView } from "../../components/status.tsx";
import { useFormatDate, useT } from "../../i18n/i18n.tsx";

/** The token is asked once per browser session (sessionStorage: gone with the tab, never in localStorage). */
const TOKEN_KEY = "opsToken";
const STATE_COLOURS: Record<SignalState, string> = { ok: "green", warn: "orange", critical: "red" };

/** `/api/health`: the pool and the figures only with the ops token (or where operators' endpoints are open). */
interface HealthDto {
  status: string;
  checks: Record<string, { status: string; latencyMs?: number }>;
  pool?: { total: number; idle: number; waiting: number; max: number };
}

function useOps() {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY) ?? "");
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const get =
    <T,>(path: string) =>
    (context: { signal: AbortSignal }) =>
      api<T>(path, { headers, signal: context.signal });
  const save = (next: string) => {
    sessionStorage.setItem(TOKEN_KEY, next);
    setToken(next);
  };
  return { token, headers, get, save };
}

export function OpsPage() {
  const t = useT();
  const ops = useOps();
  const status = useQuery({
    queryKey: ["ops", ops.token, "status"],
    queryFn: ops.get<InstanceStatus>("/ops/status"),
    refetchInterval: 15_000,
  });
  const refused = status.error instanceof ApiError && (status.error.status === 401 || status.error.status === 404);
  return (
    <Page title={t("ops.title")}>
      <TokenForm onSave={ops.save} refused={refused} />
      {!refused && (
        <Stack>
          <Health ops={ops} />
          <QueryView query={status}>{(data) => <Signals status={data} />}</QueryView>
          <JobQueue ops={ops} />
          <Webhooks ops={ops} />
          <Emails ops={ops} />
        </Stack>
      )}
    </Page>
  );
}

function TokenForm({ onSave, refused }: { onSave: (token: string) => void; refused: boolean }) {
  const t = useT();
  const [value, setValue] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSave(value);
  };
  return (
    <form onSubmit={submit} noValidate>
      <Group align="flex-end">
        <PasswordInput label={t("ops.token")} value={value} onChange={(event) => setValue(event.currentTarget.value)} style={{ flex: 1 }} />
        <Button type="submit">{t("ops.useToken")}</Button>
      </Group>
      {refused && (
        <Text c="red.9" mt="xs" role="alert">
          {t("ops.refused")}
        </Text>
      )}
    </form>
  );
}

function Health({ ops }: { ops: ReturnType<typeof useOps> }) {
  const t = useT();
  const health = useQuery({ queryKey: ["ops", ops.token, "health"], queryFn: ops.get<HealthDto>("/health"), refetchInterval: 10_000 });
  return (
    <Section title={t("ops.health")}>
      <QueryView query={health}>
        {(data) => (
          <Group mt="xs">
            <Badge color={data.status === "healthy" ? "green" : data.status === "degraded" ? "orange" : "red"} data-testid="health-status">
              {data.status}
            </Badge>
            {Object.entries(data.checks).map(([name, check]) => (
              <Text key={name} size="sm">
                {name}: {check.status}
              </Text>
            ))}
            {data.pool && (
              <Text size="sm">
                {t("ops.pool", { idle: data.pool.idle, total: data.pool.total, max: data.pool.max, waiting: data.pool.waiting })}
              </Text>
            )}
          </Group>
        )}
      </QueryView>
    </Section>
  );
}

function Signals({ status }: { status: InstanceStatus }) {
  const t = useT();
  return (
    <Section title={t("ops.signals")}>
      <Text size="sm" c="dimmed">
        {t("ops.workers", { web: status.workers.web ?? 0, worker: status.workers.worker ?? 0, uptime: Math.round(status.uptimeS / 60) })}
      </Text>
      <SimpleGrid cols={{ base: 1, sm: 2 }} mt="xs">
        {status.signals.map((signal) => (
          <Group key={signal.name} justify="space-between" wrap="nowrap">
            <Text size="sm">{signal.name}</Text>
            <Badge color={STATE_COLOURS[signal.state]} data-signal={signal.name}>
              {Math.round(signal.value * 100) / 100} {signal.unit} · {signal.state}
            </Badge>
          </Group>
        ))}
      </SimpleGrid>
    </Section>
  );
}

/** "state: count" for each state, in a row. */
function Counts({ counts, testId }: { counts: Array<[string, number | string]>; testId: string }) {
  return (
    <Group mt="xs" data-testid={testId}>
      {counts.map(([state, count]) => (
        <Text key={state} size="sm">
          {state}: {count}
        </Text>
      ))}
    </Group>
  );
}

const JOB_SERIES = /^job_queue_jobs\{state="(\w+)"\} (\d+)/gm;

/** The background jobs by state, read from the instance's metrics (`job_queue_jobs`). */
function JobQueue({ ops }: { ops: ReturnType<typeof useOps> }) {
  const t = useT();
  const metrics = useQuery({
    queryKey: ["ops", ops.token, "metrics"],
    queryFn: ({ signal }) => api<string>("/metrics", { headers: ops.headers, signal, as: "text" }),
    refetchInterval: 15_000,
  });
  return (
    <Section title={t("ops.queue")}>
      <QueryView query={metrics}>
        {(text) => (
          <Counts testId="queue-depth" counts={[...text.matchAll(JOB_SERIES)].map(([, state, count]) => [state ?? "", count ?? ""])} />
        )}
      </QueryView>
    </Section>
  );
}

function Webhooks({ ops }: { ops: ReturnType<typeof useOps> }) {
  const t = useT();
  const formatDate = useFormatDate();
  const client = useQueryClient();
  const stats = useQuery({
    queryKey: ["ops", ops.token, "webhook-stats"],
    queryFn: ops.get<WebhookStats>("/ops/webhooks/stats"),
    refetchInterval: 15_000,
  });
  const failed = useQuery({
    queryKey: ["ops", ops.token, "webhooks-failed"],
    queryFn: ops.get<ListPage<WebhookEvent>>("/ops/webhooks?status=failed&limit=20"),
  });
  const replay = useMutation({
    mutationFn: (id: string) => api(`/ops/webhooks/${encodeURIComponent(id)}/replay`, { method: "POST", headers: ops.headers }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["ops", ops.token] }),
  });
  return (
    <Section title={t("ops.webhooks")}>
      <QueryView query={stats}>{({ counts }) => <Counts testId="webhook-counts" counts={Object.entries(counts)} />}</QueryView>
      <ErrorMessage error={replay.error} />
      <QueryView query={failed}>
        {({ items }) =>
          items.length === 0 ? (
            <Text size="sm" c="dimmed" mt="xs">
              {t("ops.noFailed")}
            </Text>
          ) : (
            <ScrollRegion label={t("ops.webhooks")}>
              <Table mt="xs">
                <Table.Tbody>
                  {items.map((event) => (
                    <Table.Tr key={event.id}>
                      <Table.Td>
                        <Text size="sm">{event.type}</Text>
                        <Text size="xs" c="dimmed">
                          {event.id} · {formatDate(event.receivedAt)} · {event.lastError}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Button
                          size="xs"
                          onClick={() => replay.mutate(event.id)}
                          loading={replay.isPending && replay.variables === event.id}
                        >
                          {t("ops.replay")}
                        </Button>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollRegion>
          )
        }
      </QueryView>
    </Section>
  );
}

function Emails({ ops }: { ops: ReturnType<typeof useOps> }) {
  const t = useT();
  const formatDate = useFormatDate();
  const emails = useQuery({ queryKey: ["ops", ops.token, "emails"], queryFn: ops.get<ListPage<EmailDto>>("/ops/emails?limit=10") });
  return (
    <Section title={t("ops.emails")}>
      <QueryView query={emails}>
        {({ items }) => (
          <ScrollRegion label={t("ops.emails")}>
            <Table mt="xs">
              <Table.Tbody>
                {items.map((email) => (
                  <Table.Tr key={email.id}>
                    <Table.Td>
                      <Text size="sm">{email.subject}</Text>
                      <Text size="xs" c="dimmed">
                        {email.to} · {email.template} · {formatDate(email.createdAt)}
                      </Text>
                      {/* Captured emails (no SendGrid key) are read here: a password reset link, a ticket. */}
                      <details>
                        <summary>
                          <Text span size="xs">
                            {t("ops.showEmail")}
                          </Text>
                        </summary>
                        <Text size="xs" style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }}>
                          {email.text}
                        </Text>
                      </details>
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light">{email.status}</Badge>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollRegion>
        )}
      </QueryView>
    </Section>
  );
}
