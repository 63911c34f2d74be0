/**
 * HTML built by a tagged template that escapes every interpolated value, so that a name or a title written by a user
 * can never become markup in someone's mailbox. Only fragments built by `html` itself are inserted as they are.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character] as string);
}

type Interpolated = SafeHtml | string | number | readonly SafeHtml[] | undefined;

function piece(value: Interpolated): string {
  if (value === undefined) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map((part: SafeHtml) => part.value).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, text, index) => out + text + (index < values.length ? piece(values[index]) : ""), ""));
}

/** The frame every email shares: a heading, its paragraphs and, when given, one button. */
export function emailLayout(heading: string, body: SafeHtml, button?: { label: string; url: string }): string {
  const action = button
    ? html`<p>
        <a
          href="${button.url}"
          style="display:inline-block;padding:10px 18px;background:#2451b7;color:#ffffff;text-decoration:none;border-radius:4px"
          >${button.label}</a
        >
      </p>`
    : undefined;
  return html`<!doctype html>
    <html>
      <body style="font-family:Arial,Helvetica,sans-serif;color:#1f2933;line-height:1.5">
        <h1 style="font-size:20px">${heading}</h1>
        ${body}${action}
      </body>
    </html>`.value;
}
