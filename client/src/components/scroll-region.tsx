import type { ReactNode } from "react";

/**
 * A table wider than a phone scrolls sideways inside this region, which the
 * keyboard can reach (focusable) and a screen reader names.
 */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div role="region" aria-label={label} tabIndex={0} style={{ overflowX: "auto" }}>
      {children}
    </div>
  );
}
