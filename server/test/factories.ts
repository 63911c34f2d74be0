import { randomUUID } from "node:crypto";
import type { CommunityDto, UserDto } from "../../shared/api/index.ts";
import { HttpClient } from "./harness.ts";

export const TEST_PASSWORD = "correct horse battery";

export interface SignedInUser {
  client: HttpClient;
  user: UserDto;
}

/** A freshly registered user with a signed-in client; emails are unique per call. */
export async function signedInUser(baseUrl: string, name = "Member"): Promise<SignedInUser> {
  const client = new HttpClient(baseUrl);
  const email = `${name.toLowerCase().replace(/\W+/g, "-")}-${randomUUID()}@example.test`;
  const response = await client.post("/api/auth/register", { email, password: TEST_PASSWORD, name });
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  const { user } = (await response.json()) as { user: UserDto };
  return { client, user };
}

export async function createCommunity(owner: HttpClient, body: Record<string, unknown> = {}): Promise<CommunityDto> {
  const response = await owner.post("/api/communities", { name: `Club ${randomUUID().slice(0, 8)}`, ...body });
  if (response.status !== 201) throw new Error(`create community: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { community: CommunityDto }).community;
}

/** Adds a registered user to a community with a role, through the API as its owner. */
export async function addMember(owner: HttpClient, slug: string, member: UserDto, role = "member"): Promise<void> {
  const response = await owner.post(`/api/communities/${slug}/members`, { email: member.email, role });
  if (response.status !== 201) throw new Error(`add member: ${response.status} ${await response.text()}`);
}
