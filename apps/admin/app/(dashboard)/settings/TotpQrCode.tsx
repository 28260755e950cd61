"use client";

import { create } from "qrcode";
import { useMemo } from "react";
import styles from "./TotpQrCode.module.css";

/**
 * The otpauth:// URI of a TOTP enrolment as a QR code to scan with an authenticator app.
 * Made here in the browser by the `qrcode` package (its modules drawn as one SVG path):
 * the secret never leaves the page, no remote service is asked.
 */
export function TotpQrCode({ uri }: { uri: string }) {
  const { size, d } = useMemo(() => {
    const { modules } = create(uri, { errorCorrectionLevel: "M" });
    let path = "";
    for (let y = 0; y < modules.size; y++) for (let x = 0; x < modules.size; x++) if (modules.get(y, x)) path += `M${x + 4} ${y + 4}h1v1h-1z`;
    return { size: modules.size + 8, d: path };
  }, [uri]);
  return (
    <svg className={styles.qr} viewBox={`0 0 ${size} ${size}`} role="img" aria-label="QR code of the secret key for your authenticator app" shapeRendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
