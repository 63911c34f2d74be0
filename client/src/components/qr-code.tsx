import { useEffect, useState } from "react";

/**
 * A QR code drawn in the browser (so that a ticket already loaded still shows
 * at a door without network), black on white with a quiet zone, as large as
 * its box. The encoder loads with the first code shown, not with the app.
 */
export function QrCode({ value, label, size = 320 }: { value: string; label: string; size?: number }) {
  const [svg, setSvg] = useState<string>();
  useEffect(() => {
    let current = true;
    void import("qrcode").then(({ toString }) =>
      toString(value, { type: "svg", errorCorrectionLevel: "M", margin: 4, color: { dark: "#000000", light: "#ffffff" } }).then(
        (drawn) => current && setSvg(drawn),
      ),
    );
    return () => {
      current = false;
    };
  }, [value]);
  return (
    <div
      role="img"
      aria-label={label}
      style={{ width: "100%", maxWidth: size, aspectRatio: "1", background: "#ffffff", lineHeight: 0 }}
      // The encoder's own SVG, built from the code alone: no markup of anyone's.
      dangerouslySetInnerHTML={svg ? { __html: svg } : undefined}
    />
  );
}
