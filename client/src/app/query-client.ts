import { QueryClient } from "@tanstack/react-query";
import { ApiError } from "../api/http.ts";

/** A 4xx will not change by asking again; a network failure or a 5xx may. */
export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
    },
    mutations: { retry: false },
  },
});
