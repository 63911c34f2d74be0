/** Who is acting, as services see the signed-in user: the id decides, the name is copied where a row shows it. */
export interface Actor {
  id: string;
  name: string;
}
