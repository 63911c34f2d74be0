import "@mantine/core/styles.css";
import { createTheme, DEFAULT_THEME, MantineProvider, type CSSVariablesResolver, type MantineColorsTuple } from "@mantine/core";
import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { queryClient } from "./app/query-client.ts";
import { router } from "./app/router.tsx";
import { I18nProvider } from "./i18n/i18n.tsx";

// Contrast of text (WCAG AA, 4.5:1 on white, and of white on filled badges and buttons): filled colours use shade 8,
// and green's and orange's shades 8 and 9 are darkened to pass (Mantine's default ones give 3.5:1); "dimmed" text is
// gray 7 rather than 6.
const theme = createTheme({
  primaryColor: "blue",
  primaryShade: 8,
  colors: {
    green: withDarkShades(DEFAULT_THEME.colors.green, "#25793a", "#1e6b30"),
    orange: withDarkShades(DEFAULT_THEME.colors.orange, "#b8440b", "#a13d00"),
  },
});

function withDarkShades(palette: MantineColorsTuple, eight: string, nine: string): MantineColorsTuple {
  return [...palette.slice(0, 8), eight, nine] as unknown as MantineColorsTuple;
}
const resolver: CSSVariablesResolver = () => ({ variables: {}, light: { "--mantine-color-dimmed": "#495057" }, dark: {} });

const container = document.getElementById("root");
if (!container) throw new Error("no #root element in index.html");
createRoot(container).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={resolver}>
      <I18nProvider>
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </I18nProvider>
    </MantineProvider>
  </StrictMode>,
);
