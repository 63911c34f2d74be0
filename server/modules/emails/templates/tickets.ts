import QRCode from "qrcode";
import { z } from "zod";
import { line } from "../../../../shared/api/text.ts";
import { emailLayout, html } from "../html.ts";
import { formatDateTime } from "./format.ts";
import { defineTemplate, fields } from "./template.ts";

const QR_CONTENT_ID = "ticket-qr";

/**
 * A ticket taken: its QR code (the signed code the door scans) as an inline PNG attachment, since mail clients
 * refuse `data:` images, and the link to the ticket in the app.
 */
export const ticketIssuedTemplate = defineTemplate({
  name: "ticket_issued",
  payload: z.object({
    name: fields.name,
    communityName: fields.communityName,
    eventTitle: line(200),
    startsAt: fields.date,
    location: line(300).optional(),
    ticketId: z.uuid(),
    code: line(1_000),
  }),
  sample: {
    name: "Ada Lovelace",
    communityName: "Demo Club",
    eventTitle: "Season opening party",
    startsAt: "2027-03-01T19:00:00Z",
    location: "Club house",
    ticketId: "00000000-0000-4000-8000-000000000000",
    code: "sample-ticket-code",
  },
  subject: ({ eventTitle }) => `Your ticket: ${eventTitle}`,
  text: ({ name, communityName, eventTitle, startsAt, location, ticketId }, { appUrl }) =>
    [
      `Hello ${name},`,
      "",
      `Here is your ticket to ${eventTitle} (${communityName}), ${formatDateTime(startsAt)}${location ? `, ${location}` : ""}.`,
      "Show its QR code at the door; it is attached, and in the app:",
      `${appUrl}/tickets/${ticketId}`,
    ].join("\n"),
  html: ({ name, communityName, eventTitle, startsAt, location, ticketId }, { appUrl }) =>
    emailLayout(
      `Your ticket: ${eventTitle}`,
      html`<p>Hello ${name},</p>
        <p>
          Here is your ticket to <strong>${eventTitle}</strong> (${communityName}),
          ${formatDateTime(startsAt)}${location ? `, ${location}` : ""}.
        </p>
        <p>Show this QR code at the door:</p>
        <p><img src="cid:${QR_CONTENT_ID}" alt="Ticket QR code" width="240" height="240" /></p>`,
      { label: "Open the ticket", url: `${appUrl}/tickets/${ticketId}` },
    ),
  attachments: async ({ code }) => [
    {
      filename: "ticket-qr.png",
      type: "image/png",
      content: (await QRCode.toBuffer(code, { type: "png", errorCorrectionLevel: "M", margin: 2, width: 240 })).toString("base64"),
      contentId: QR_CONTENT_ID,
    },
  ],
});
