import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { RedirectDto } from "../../../../shared/api/billing.ts";
import type { DuesDto, DuesSettingsBody, PaymentDto, PayoutsDto } from "../../../../shared/api/dues.ts";
import type { PlanDto } from "../../../../shared/api/plans.ts";
import { api, query } from "../../api/http.ts";
import { usePagedList } from "../communities/api.ts";

const path = (slug: string, rest: string) => `/communities/${encodeURIComponent(slug)}${rest}`;

export function usePlans() {
  return useQuery({ queryKey: ["plans"], queryFn: ({ signal }) => api<PlanDto[]>("/plans", { signal }), staleTime: 60 * 60_000 });
}

export function useDues(slug: string) {
  return useQuery({ queryKey: ["communities", slug, "dues"], queryFn: ({ signal }) => api<DuesDto>(path(slug, "/dues"), { signal }) });
}

export function useSetDues(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: DuesSettingsBody) => api<DuesDto>(path(slug, "/dues"), { method: "PUT", body }),
    onSuccess: (dues) => client.setQueryData(["communities", slug, "dues"], dues),
  });
}

export function usePayouts(slug: string) {
  return useQuery({
    queryKey: ["communities", slug, "payouts"],
    queryFn: ({ signal }) => api<PayoutsDto>(path(slug, "/payouts"), { signal }),
  });
}

/** The caller's own payments in the community: their receipts. */
export function useMyPayments(slug: string) {
  return usePagedList<PaymentDto>(["communities", slug, "dues", "mine"], (cursor) => path(slug, `/dues/payments${query({ cursor })}`));
}

export function usePayments(slug: string) {
  return usePagedList<PaymentDto>(["communities", slug, "payments"], (cursor) => path(slug, `/payments${query({ cursor })}`));
}

/**
 * Stripe's pages (Checkout, the billing portal, Connect onboarding): the API answers their address, the browser goes
 * there, and Stripe sends it back to the community's page.
 */
export function useStripeRedirect(slug: string, rest: string) {
  return useMutation({
    mutationFn: (body?: unknown) => api<RedirectDto>(path(slug, rest), { method: "POST", body }),
    onSuccess: ({ url }) => window.location.assign(url),
  });
}
