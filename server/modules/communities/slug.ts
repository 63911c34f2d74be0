import { SLUG_PATTERN } from "../../../shared/api/communities.ts";

const MAX_SLUG_LENGTH = 48;

/** "Club de Tennis d'Évry" → "club-de-tennis-d-evry"; names with nothing usable give "community". */
export function slugFromName(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, MAX_SLUG_LENGTH)
    .replace(/^-+|-+$/g, "");
  return SLUG_PATTERN.test(slug) ? slug : "community";
}

/** The n-th alternative when a generated slug is taken: "name-2", "name-3", ... within the length limit. */
export function alternativeSlug(base: string, attempt: number): string {
  const suffix = `-${attempt + 1}`;
  return `${base.slice(0, MAX_SLUG_LENGTH - suffix.length).replace(/-+$/, "")}${suffix}`;
}
