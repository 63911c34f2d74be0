import { zodResolver } from "@hookform/resolvers/zod";
import { useForm, type DefaultValues, type FieldValues, type Path, type UseFormSetError } from "react-hook-form";
import type { z } from "zod";
import { ApiError } from "../api/http.ts";

/** A form checked by the same zod schema the API validates it with (shared/api/). */
export function useSchemaForm<Schema extends z.ZodType<FieldValues, FieldValues>>(schema: Schema, defaultValues: z.input<Schema>) {
  return useForm<z.input<Schema>, unknown, z.output<Schema>>({
    resolver: zodResolver(schema),
    // A complete set of values is a partial one too; the generic parameter hides it from the compiler.
    defaultValues: defaultValues as DefaultValues<z.input<Schema>>,
  });
}

/** The API's own field errors (400 validation_failed) shown under their fields; true when there were any. */
export function showFieldErrors<Values extends FieldValues>(error: unknown, setError: UseFormSetError<Values>): boolean {
  if (!(error instanceof ApiError) || error.details.length === 0) return false;
  for (const detail of error.details) setError(detail.path as Path<Values>, { message: detail.message });
  return true;
}
