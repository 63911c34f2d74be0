import { z } from "zod";
import { line } from "../../../../shared/api/text.ts";
import { emailLayout, html } from "../html.ts";
import { formatAmount, formatDate } from "./format.ts";
import { defineTemplate, fields } from "./template.ts";

/** What every dues email says: whose dues, how much, and a link to act on them. */
const duesFields = {
  name: fields.name.optional(),
  communityName: fields.communityName,
  amountMinor: fields.amountMinor,
  currency: fields.currency,
  link: fields.link,
};

const greeting = (name: string | undefined) => (name ? `Hello ${name},` : "Hello,");

/** A dues payment succeeded: the receipt, with the date the membership is now paid until. */
export const duesReceiptTemplate = defineTemplate({
  name: "dues_receipt",
  payload: z.object({ ...duesFields, paidUntil: fields.date }),
  sample: {
    name: "Ada Lovelace",
    communityName: "Demo Club",
    amountMinor: 2_500,
    currency: "eur",
    paidUntil: "2027-12-31",
    link: "https://community.example/communities/demo-club",
  },
  subject: ({ communityName }) => `Receipt: your dues to ${communityName}`,
  text: (p) =>
    [
      greeting(p.name),
      "",
      `We received your dues of ${formatAmount(p.amountMinor, p.currency)} to ${p.communityName}.`,
      `Your membership is paid until ${formatDate(p.paidUntil)}.`,
      "",
      p.link,
    ].join("\n"),
  html: (p) =>
    emailLayout(
      "Thank you for your dues",
      html`<p>${greeting(p.name)}</p>
        <p>We received your dues of <strong>${formatAmount(p.amountMinor, p.currency)}</strong> to ${p.communityName}.</p>
        <p>Your membership is paid until <strong>${formatDate(p.paidUntil)}</strong>.</p>`,
      { label: "Open the community", url: p.link },
    ),
});

/** Dues come due (or are overdue) on a date: a reminder with the link that pays them. */
export const duesReminderTemplate = defineTemplate({
  name: "dues_reminder",
  payload: z.object({ ...duesFields, dueOn: fields.date }),
  sample: {
    name: "Ada Lovelace",
    communityName: "Demo Club",
    amountMinor: 2_500,
    currency: "eur",
    dueOn: "2027-01-31",
    link: "https://community.example/communities/demo-club/dues",
  },
  subject: ({ communityName }) => `Your dues to ${communityName}`,
  text: (p) =>
    [
      greeting(p.name),
      "",
      `Your dues of ${formatAmount(p.amountMinor, p.currency)} to ${p.communityName} are due on ${formatDate(p.dueOn)}.`,
      "Pay them with this link:",
      p.link,
    ].join("\n"),
  html: (p) =>
    emailLayout(
      "Your dues are due",
      html`<p>${greeting(p.name)}</p>
        <p>
          Your dues of <strong>${formatAmount(p.amountMinor, p.currency)}</strong> to ${p.communityName} are due on
          <strong>${formatDate(p.dueOn)}</strong>.
        </p>`,
      { label: "Pay my dues", url: p.link },
    ),
});

/** A payment (dues, or a community's subscription) failed: what failed, why when known, and where to fix it. */
export const paymentFailedTemplate = defineTemplate({
  name: "payment_failed",
  payload: z.object({ ...duesFields, reason: line(500).optional() }),
  sample: {
    name: "Ada Lovelace",
    communityName: "Demo Club",
    amountMinor: 2_500,
    currency: "eur",
    reason: "Your card was declined.",
    link: "https://community.example/communities/demo-club/dues",
  },
  subject: ({ communityName }) => `Payment failed: ${communityName}`,
  text: (p) =>
    [
      greeting(p.name),
      "",
      `A payment of ${formatAmount(p.amountMinor, p.currency)} to ${p.communityName} failed.${p.reason ? ` ${p.reason}` : ""}`,
      "Update your payment method or pay again with this link:",
      p.link,
    ].join("\n"),
  html: (p) =>
    emailLayout(
      "Your payment failed",
      html`<p>${greeting(p.name)}</p>
        <p>A payment of <strong>${formatAmount(p.amountMinor, p.currency)}</strong> to ${p.communityName} failed.</p>
        ${p.reason ? html`<p>${p.reason}</p>` : undefined}
        <p>Update your payment method or pay again.</p>`,
      { label: "Fix the payment", url: p.link },
    ),
});
