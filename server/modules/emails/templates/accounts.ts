import { z } from "zod";
import { emailLayout, html } from "../html.ts";
import { defineTemplate, fields } from "./template.ts";

/** Sent once an account is registered. */
export const welcomeTemplate = defineTemplate({
  name: "welcome",
  payload: z.object({ name: fields.name }),
  sample: { name: "Ada Lovelace" },
  subject: () => "Welcome aboard",
  text: ({ name }, { appUrl }) => [`Hello ${name},`, "", "Your account is ready. Sign in and find your communities:", appUrl].join("\n"),
  html: ({ name }, { appUrl }) =>
    emailLayout(
      "Welcome aboard",
      html`<p>Hello ${name},</p>
        <p>Your account is ready. Sign in and find your communities.</p>`,
      {
        label: "Open the app",
        url: appUrl,
      },
    ),
});

/** The single-use link of a password reset (it exists only in this email: the database keeps its hash). */
export const passwordResetTemplate = defineTemplate({
  name: "password_reset",
  payload: z.object({ link: fields.link }),
  sample: { link: "https://community.example/reset-password?token=sample-token" },
  subject: () => "Reset your password",
  text: ({ link }) =>
    [
      "Someone, hopefully you, asked to reset the password of your account.",
      "",
      "Choose a new password within the hour with this link (it works once):",
      link,
      "",
      "If you did not ask for it, ignore this email: your password stays as it is.",
    ].join("\n"),
  html: ({ link }) =>
    emailLayout(
      "Reset your password",
      html`<p>Someone, hopefully you, asked to reset the password of your account.</p>
        <p>Choose a new password within the hour with the button below (it works once).</p>
        <p>If you did not ask for it, ignore this email: your password stays as it is.</p>`,
      { label: "Choose a new password", url: link },
    ),
});
